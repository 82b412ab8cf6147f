"""What nvidia-smi reports about a GPU, through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``), as
torch.cuda's functions of these names: utilization, memory traffic, temperature, power, clock, memory used, and
the processes on the device. Without nvidia-ml-py they raise ModuleNotFoundError saying so, as PyTorch's."""

from __future__ import annotations

import os
from typing import Any

from ._devices import _device_index

_MISSING = "nvidia-ml-py does not seem to be installed or it can't be imported."


def _nvml() -> Any:
    try:
        import pynvml
    except ImportError as e:
        raise ModuleNotFoundError(_MISSING) from e
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_DriverNotLoaded as e:
        raise RuntimeError("cuda driver can't be loaded, is cuda enabled?") from e
    return pynvml


def _handle(nvml: Any, device: Any) -> Any:
    """NVML's handle of ember's device (None: the current one), through CUDA_VISIBLE_DEVICES: ember's index
    counts the visible GPUs, NVML's all of them; a visible GPU may be named by its UUID."""
    index = _device_index(device)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return nvml.nvmlDeviceGetHandleByIndex(index)
    names = [v.strip() for v in visible.split(",") if v.strip()]
    if index >= len(names):
        raise RuntimeError(f"device {index} is not visible (CUDA_VISIBLE_DEVICES={visible})")
    name = names[index]
    if name.lstrip("-").isdigit():
        return nvml.nvmlDeviceGetHandleByIndex(int(name))
    return nvml.nvmlDeviceGetHandleByUUID(name)


def utilization(device: Any = None) -> int:
    """The percent of the last sample period in which a kernel ran on the GPU (nvidia-smi's GPU-Util)."""
    nvml = _nvml()
    return nvml.nvmlDeviceGetUtilizationRates(_handle(nvml, device)).gpu


def memory_usage(device: Any = None) -> int:
    """The percent of the last sample period in which the GPU's memory was read or written."""
    nvml = _nvml()
    return nvml.nvmlDeviceGetUtilizationRates(_handle(nvml, device)).memory


def temperature(device: Any = None) -> int:
    """The GPU die's temperature in degrees Celsius."""
    nvml = _nvml()
    return nvml.nvmlDeviceGetTemperature(_handle(nvml, device), 0)  # 0: NVML_TEMPERATURE_GPU


def power_draw(device: Any = None) -> int:
    """The GPU's average power draw over the last sample period, in milliwatts."""
    nvml = _nvml()
    return nvml.nvmlDeviceGetPowerUsage(_handle(nvml, device))


def clock_rate(device: Any = None) -> int:
    """The streaming multiprocessors' clock in MHz."""
    nvml = _nvml()
    return nvml.nvmlDeviceGetClockInfo(_handle(nvml, device), 1)  # 1: NVML_CLOCK_SM


def device_memory_used(device: Any = None) -> int:
    """Bytes of the GPU's memory in use, by every process (nvidia-smi's count)."""
    nvml = _nvml()
    return nvml.nvmlDeviceGetMemoryInfo(_handle(nvml, device)).used


def list_gpu_processes(device: Any = None) -> str:
    """The processes running on the GPU and the memory each holds, as lines of text."""
    try:
        nvml = _nvml()
    except ModuleNotFoundError:
        return "pynvml module not found, please install nvidia-ml-py"
    except RuntimeError as e:
        return str(e)
    index = _device_index(device)
    lines = [f"GPU:{index}"]
    processes = nvml.nvmlDeviceGetComputeRunningProcesses(_handle(nvml, index))
    if not processes:
        lines.append("no processes are running")
    for p in processes:
        lines.append(f"process {p.pid:>10d} uses {p.usedGpuMemory / 2**20:>12.3f} MB GPU memory")
    return "\n".join(lines)
