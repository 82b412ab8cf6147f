#pragma once
#include "python/common.h"

namespace ember {
namespace bind {

using TensorClass = py::class_<TensorImpl, std::shared_ptr<TensorImpl>>;

void init_tensor(py::module_& m, TensorClass& cls);    // tensor.cpp: attributes, numpy, indexing
void init_autograd(py::module_& m, TensorClass& cls);  // autograd.cpp: engine, hooks, Function, grad modes
void init_interop(py::module_& m, TensorClass& cls);   // interop.cpp: buffer protocol, DLPack
void init_profiler(py::module_& m);                    // profiler.cpp: sessions, user ranges
void init_lapack(py::module_& m);                      // lapack.cpp: ember._C._lapack_* for ember.linalg
void init_cuda(py::module_& m);                        // cuda.cpp: ember._C._cuda_* for ember.cuda
void add_lenient_forms(py::module_& m);                // lenient_forms.cpp: Note [Lenient call forms]
void tensor_type_setup(PyHeapTypeObject* heap_type);   // autograd.cpp: Note [Python objects held by C++]

}  // namespace bind
}  // namespace ember
