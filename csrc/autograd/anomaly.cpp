#include "autograd/anomaly.h"

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace ember {

std::atomic<bool> AnomalyMode::enabled_{false}, AnomalyMode::check_nan_{true};
std::function<void(Node&)> AnomalyMode::on_node_created;
std::function<void(const Node&)> AnomalyMode::report_failure;

void check_anomalous_output(const Node& node, const variable_list& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& g = outputs[i];
    if (!g || !is_floating(g->dtype()) || g->numel() == 0) continue;
    NoGradGuard no_grad;
    OpDeviceGuard on_its_device(g->device());  // Note [Op device]: the check's tensors where g is
    if (item_as_double(any(isnan(g), std::nullopt, false)) != 0.0)
      EMBER_FAIL(Runtime, "Function '", node.name(), "' returned nan values in its ", i, "th output.");
  }
}

}  // namespace ember
