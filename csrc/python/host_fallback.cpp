// Note [CUDA host fallback]: which ops, the warning, and results moved back.
#include "python/host_fallback.h"

#include <cstring>
#include <mutex>
#include <set>
#include <string>

namespace ember {
namespace bind {
namespace host_fallback {

bool enabled_for(const char* op) {
  // Ops that compute a new result from their inputs, without writing into them or viewing them. Each has CUDA
  // kernels now but for scatter_reduce/index_reduce of bool tensors; the list stays a net for the cases a
  // kernel refuses (MissingKernel).
  static const char* const kOps[] = {"sort",         "argsort",
                                     "msort",        "topk",
                                     "kthvalue",     "median",
                                     "nanmedian",    "mode",

                                     "unique",       "unique_consecutive",
                                     "isin",         "histc",
                                     "bincount",     "scatter_reduce",
                                     "index_reduce", "lgamma",
                                     "digamma",      "polygamma",
                                     "mvlgamma",     "igamma",
                                     "igammac",      "quantile",
                                     "nanquantile",  "count_nonzero"};
  // and their in-place forms (scatter_reduce_), which write the result back into self
  const size_t n = std::strlen(op);
  const size_t base = n > 1 && op[n - 1] == '_' ? n - 1 : n;
  for (const char* name : kOps)
    if (std::strlen(name) == base && std::strncmp(name, op, base) == 0) return true;
  return false;
}

void warn_once(const char* op) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!warned.insert(op).second) return;
  }
  std::string message = std::string("The operator '") + op +
                        "' is not currently supported on the CUDA backend of ember and will fall back to run on the "
                        "CPU. This may have performance implications.";
  if (PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1) != 0) throw py::error_already_set();
}

py::object back(const py::object& o, Device d) {
  if (is_tensor(o)) return py::cast(back(o.cast<Tensor>(), d));
  if (!PyTuple_Check(o.ptr())) return o;
  py::list items;
  for (py::handle item : o) items.append(back(py::reinterpret_borrow<py::object>(item), d));
  if (Py_TYPE(o.ptr()) == &PyTuple_Type) return py::tuple(items);
  return py::type::handle_of(o)(*items);  // ember's named result tuples take their fields in order
}

}  // namespace host_fallback
}  // namespace bind
}  // namespace ember
