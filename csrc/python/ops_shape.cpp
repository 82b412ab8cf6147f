// Registry entries (Note [Op registry]) of views, joining and splitting,
// indexing ops and dtype conversions.
#include "kernels/cuda_dispatch.h"
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

// split's second argument: one piece size, or the sizes of the pieces.
TensorList split_by(const Tensor& t, py::handle size, int64_t dim) {
  if (PyLong_Check(size.ptr())) return split(t, size.cast<int64_t>(), dim);
  return split_sizes(t, dims_arg(size, "split_size_or_sections"), dim);
}

void register_views(OpRegistry& r, TensorClass& cls) {
  r.family("views and shape");
  r.method("view", 0,
           "A view of self with another shape (sizes as arguments or one sequence; -1 is inferred), or "
           "view(dtype): its bytes read as another dtype.",
           [](const Tensor& t, py::args shape, py::kwargs kw) {
             py::detail::make_caster<DType> dtype;  // an ember dtype, or Python's int/float/bool
             if (shape.size() == 1 && kw.empty() && dtype.load(shape[0], false))
               return view_dtype(t, py::detail::cast_op<DType>(dtype));
             if (kw.contains("dtype") && shape.empty() && kw.size() == 1 && dtype.load(kw["dtype"], false))
               return view_dtype(t, py::detail::cast_op<DType>(dtype));
             return view(t, shape_or_keyword(shape, kw, "view", "size"));
           });
  r.method(
      "view_as", 0, "self.view(other.shape).", [](const Tensor& t, const Tensor& o) { return view(t, o->sizes()); },
      py::arg("other"));
  r.method("reshape", 0, "self with another shape: a view when the strides allow, else a copy.",
           [](const Tensor& t, py::args shape, py::kwargs kw) {
             return reshape(t, shape_or_keyword(shape, kw, "reshape", "shape"));
           });
  r.function(
      "reshape", 0, "input with another shape: a view when the strides allow, else a copy.",
      [](const Tensor& t, py::handle shape) { return reshape(t, dims_arg(shape, "shape")); }, py::arg("input"),
      py::arg("shape"));
  r.method(
      "reshape_as", 0, "self.reshape(other.shape).",
      [](const Tensor& t, const Tensor& o) { return reshape(t, o->sizes()); }, py::arg("other"));
  r.op(
      "transpose", kFunction | kMethod, "A view with dims dim0 and dim1 swapped.",
      [](const Tensor& t, int64_t a, int64_t b) { return transpose(t, a, b); }, py::arg("dim0"), py::arg("dim1"));
  r.inplace(
      "transpose", "Swaps dims dim0 and dim1 of self in place (its geometry; no data moves).",
      [](Tensor& t, int64_t a, int64_t b) -> Tensor& {
        return inplace_view(t, transpose(t, a, b), "TransposeBackward1");
      },
      py::arg("dim0"), py::arg("dim1"));
  r.alias("swapdims", "transpose");
  // numpy's name, with numpy's parameter names (PyTorch's swapaxes takes axis0/axis1).
  r.op(
      "swapaxes", kFunction | kMethod, "A view with axes axis0 and axis1 swapped (transpose's numpy name).",
      [](const Tensor& t, int64_t a, int64_t b) { return transpose(t, a, b); }, py::arg("axis0"), py::arg("axis1"));
  r.inplace(
      "swapaxes", "Swaps axes axis0 and axis1 of self in place (its geometry; no data moves).",
      [](Tensor& t, int64_t a, int64_t b) -> Tensor& {
        return inplace_view(t, transpose(t, a, b), "TransposeBackward1");
      },
      py::arg("axis0"), py::arg("axis1"));
  r.op("t", kFunction | kMethod, "The transpose of a matrix (a 0-D or 1-D tensor as is).",
       [](const Tensor& t) { return t_(t); });
  r.inplace("t", "Transposes a matrix in place (its geometry; no data moves).",
            [](Tensor& t) -> Tensor& { return inplace_view(t, t_(t), "TBackward1"); });
  cls.def_property_readonly(
      "T",
      [](const Tensor& t) {
        DimList d;
        for (int64_t i = t->dim() - 1; i >= 0; --i) d.push_back(i);
        return permute(t, d);
      },
      "A view with all dims reversed.");
  cls.def_property_readonly(
      "mT", [](const Tensor& t) { return transpose(t, -2, -1); },
      "A view with the last two dims swapped (batched matrix transpose).");
  r.method("permute", 0, "A view with the dims reordered (as arguments or one sequence).",
           [](const Tensor& t, py::args dims, py::kwargs kw) {
             return permute(t, shape_or_keyword(dims, kw, "permute", "dims"));
           });
  r.function(
      "permute", 0, "A view of input with the dims reordered.",
      [](const Tensor& t, py::handle dims) { return permute(t, dims_arg(dims, "dims")); }, py::arg("input"),
      py::arg("dims"));
  r.method("expand", 0, "A view broadcasting size-1 dims to the given sizes (-1 keeps a size), without copying.",
           [](const Tensor& t, py::args shape, py::kwargs kw) {
             if (shape.empty() && !kw.contains("size"))
               throw py::type_error("expand() missing 1 required positional arguments: \"size\"");
             return expand(t, shape_or_keyword(shape, kw, "expand", "size"));
           });
  r.method(
      "expand_as", 0, "self.expand(other.shape).",
      [](const Tensor& t, const Tensor& o) { return expand(t, o->sizes()); }, py::arg("other"));
  r.op(
      "squeeze", kFunction | kMethod, "A view without size-1 dims (all of them, or those in dim).",
      [](const Tensor& t, Dims dim) {
        return squeeze(t, dim.is_none() ? std::nullopt : std::optional<DimList>(dims_arg(dim)));
      },
      py::arg("dim") = py::none());
  r.inplace(
      "squeeze", "Removes size-1 dims of self in place (all of them, or those in dim).",
      [](Tensor& t, Dims dim) -> Tensor& {
        if (dim.is_none()) return inplace_view(t, squeeze(t, std::nullopt), "SqueezeBackward3");
        bool one = PyIndex_Check(dim.ptr());
        return inplace_view(t, squeeze(t, dims_arg(dim)), one ? "SqueezeBackward4" : "SqueezeBackward5");
      },
      py::arg("dim") = py::none());
  r.op(
      "unsqueeze", kFunction | kMethod, "A view with a size-1 dim inserted at dim.",
      [](const Tensor& t, int64_t d) { return unsqueeze(t, d); }, py::arg("dim"));
  r.inplace(
      "unsqueeze", "Inserts a size-1 dim at dim of self in place.",
      [](Tensor& t, int64_t d) -> Tensor& { return inplace_view(t, unsqueeze(t, d), "UnsqueezeBackward1"); },
      py::arg("dim"));
  r.op(
      "flatten", kFunction | kMethod, "input with dims start_dim..end_dim merged into one.",
      [](const Tensor& t, int64_t s, int64_t e) { return flatten(t, s, e); }, py::arg("start_dim") = 0,
      py::arg("end_dim") = -1);
  r.op(
      "narrow", kFunction | kMethod, "A view of length elements of dim, from start.",
      [](const Tensor& t, int64_t d, int64_t s, int64_t l) { return narrow(t, d, s, l); }, py::arg("dim"),
      py::arg("start"), py::arg("length"));
  r.op(
      "select", kFunction | kMethod, "A view of element index of dim, without that dim.",
      [](const Tensor& t, int64_t d, int64_t i) { return select(t, d, i); }, py::arg("dim"), py::arg("index"));
  r.op(
      "as_strided", kFunction | kMethod,
      "A view of input's storage with the given size, stride (in elements) and storage_offset (input's by "
      "default); its gradient sums over elements the view repeats.",
      [](const Tensor& t, const Shape& size, const Shape& stride, std::optional<int64_t> storage_offset) {
        return as_strided(t, size, stride, storage_offset.value_or(t->offset()));
      },
      py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());
  r.inplace(
      "as_strided", "Gives self the size, stride and storage_offset given (a view of its own storage).",
      [](Tensor& t, const Shape& size, const Shape& stride, std::optional<int64_t> storage_offset) -> Tensor& {
        return inplace_view(t, as_strided(t, size, stride, storage_offset.value_or(t->offset())), "AsStridedBackward0");
      },
      py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());
  r.op(
      "diagonal", kFunction | kMethod, "A view of the diagonal of dims dim1 and dim2 (offset above it), as a last dim.",
      [](const Tensor& t, int64_t offset, int64_t d1, int64_t d2) { return diagonal(t, offset, d1, d2); },
      py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1);
  r.op(
      "diag", kFunction | kMethod | kOut,
      "A 1-D input as the diagonal of a square matrix, or a 2-D input's diagonal (a copy); diagonal= selects which.",
      [](const Tensor& t, int64_t k) { return diag(t, k); }, py::arg("diagonal") = 0);
  r.op(
      "diag_embed", kFunction | kMethod | kOut,
      "Matrices (in dims dim1 and dim2) with input's last dim on their diagonal (offset above it), zeros elsewhere.",
      [](const Tensor& t, int64_t offset, int64_t d1, int64_t d2) { return diag_embed(t, offset, d1, d2); },
      py::arg("offset") = 0, py::arg("dim1") = -2, py::arg("dim2") = -1);
  r.op(
      "tril", kFunction | kMethod | kInPlace | kOut,
      "The lower triangle of the last two dims (on and below the diagonal-th diagonal); zeros elsewhere.",
      [](const Tensor& t, int64_t k) { return tril(t, k); }, py::arg("diagonal") = 0);
  r.op(
      "triu", kFunction | kMethod | kInPlace | kOut,
      "The upper triangle of the last two dims (on and above the diagonal-th diagonal); zeros elsewhere.",
      [](const Tensor& t, int64_t k) { return triu(t, k); }, py::arg("diagonal") = 0);
  r.method(
      "contiguous", 0, "self if contiguous (in memory_format's order, row-major by default), else a copy that is.",
      [](const Tensor& t, py::object memory_format) {
        return contiguous(t, memory_format_arg(memory_format, MemoryFormat::Contiguous, "contiguous"));
      },
      py::kw_only(), py::arg("memory_format") = py::none());
  r.op(
      "clone", kFunction | kMethod,
      "A copy of input with its own storage (differentiable); by default (preserve_format) with input's strides "
      "when they are dense.",
      [](const Tensor& t, py::object memory_format) {
        return clone(t, memory_format_arg(memory_format, MemoryFormat::Preserve, "clone"));
      },
      py::kw_only(), py::arg("memory_format") = py::none());
  r.module().def(
      "_memory_format_strides",
      [](const Tensor& t, py::object memory_format) {
        return memory_format_strides(t, memory_format_arg(memory_format, MemoryFormat::Preserve, "memory_format"));
      },
      "The strides a copy of input in memory_format gets (Note [Memory formats]).", py::arg("input"),
      py::arg("memory_format") = py::none());
  r.op("detach", kFunction | kMethod | kNoGrad, "A view of input outside the graph: shares storage, requires no grad.",
       [](const Tensor& t) { return detach(t); });
}

void register_joining(OpRegistry& r) {
  r.family("joining, splitting and indexing");
  r.function(
      "cat", kOut, "Concatenates tensors along an existing dim.",
      [](const TensorList& ts, int64_t dim) { return cat(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  r.alias("concat", "cat").alias("concatenate", "cat");
  r.function(
      "stack", kOut, "Stacks tensors of equal shape along a new dim.",
      [](const TensorList& ts, int64_t dim) { return stack(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  // torch.split(tensor, split_size_or_sections, dim) and Tensor.split(split_size, dim): PyTorch's names.
  auto split_any = [](const Tensor& t, py::handle size, int64_t dim) {
    return py::tuple(py::cast(split_by(t, size, dim)));
  };
  r.function("split", 0, "Views of consecutive pieces along dim: of one size, or of the sizes listed.", split_any,
             py::arg("tensor"), py::arg("split_size_or_sections"), py::arg("dim") = 0);
  r.method("split", 0, "Views of consecutive pieces along dim: of one size, or of the sizes listed.", split_any,
           py::arg("split_size"), py::arg("dim") = 0);
  r.method("repeat", 0, "The tensor tiled sizes[i] times along each dim (as arguments or one sequence).",
           [](const Tensor& t, py::args sizes, py::kwargs kw) {
             return repeat(t, shape_or_keyword(sizes, kw, "repeat", "repeats"));
           });
  auto tile = [](const Tensor& t, DimList d) {
    if (d.size() < (size_t)t->dim()) d.insert(d.begin(), t->dim() - d.size(), 1);
    return repeat(t, d);
  };
  r.function(
      "tile", 0, "input tiled dims[i] times along each dim (missing leading dims count as 1).",
      [tile](const Tensor& t, py::handle dims) { return tile(t, dims_arg(dims, "dims")); }, py::arg("input"),
      py::arg("dims"));
  r.method("tile", 0, "self tiled dims[i] times along each dim (as arguments or one sequence).",
           [tile](const Tensor& t, py::args dims, py::kwargs kw) {
             return tile(t, shape_or_keyword(dims, kw, "tile", "dims"));
           });
  r.op(
      "split_with_sizes", kFunction | kMethod, "Views of consecutive pieces along dim, of the sizes listed.",
      [](const Tensor& t, py::handle sizes, int64_t dim) {
        return py::tuple(py::cast(split_sizes(t, dims_arg(sizes, "split_sizes"), dim)));
      },
      py::arg("split_sizes"), py::arg("dim") = 0);
  // unsafe_split/unsafe_chunk: as split/chunk, but the caller promises no
  // in-place change will need the other pieces: their views may be modified.
  auto unsafe = [](TensorList parts) {
    // Not views for autograd, and each counting its own versions: changing one in place
    // neither rewrites the base's history nor invalidates the others where they are saved.
    for (auto& p : parts) {
      p->view_creation = TensorImpl::ViewCreation::Default;
      p->view_base.reset();
      p->use_own_version_counter();
    }
    return py::tuple(py::cast(parts));
  };
  r.op(
      "unsafe_split", kFunction | kMethod, "split whose pieces may be modified in place (no check).",
      [unsafe](const Tensor& t, py::handle size, int64_t dim) { return unsafe(split_by(t, size, dim)); },
      py::arg("split_size"), py::arg("dim") = 0);
  r.op(
      "unsafe_split_with_sizes", kFunction | kMethod, "split_with_sizes whose pieces may be modified in place.",
      [unsafe](const Tensor& t, py::handle sizes, int64_t dim) {
        return unsafe(split_sizes(t, dims_arg(sizes, "split_sizes"), dim));
      },
      py::arg("split_sizes"), py::arg("dim") = 0);
  r.op(
      "unsafe_chunk", kFunction | kMethod, "chunk whose pieces may be modified in place (no check).",
      [unsafe](const Tensor& t, int64_t n, int64_t dim) { return unsafe(chunk(t, n, dim)); }, py::arg("chunks"),
      py::arg("dim") = 0);
  r.op(
      "chunk", kFunction | kMethod, "Splits into `chunks` views of (nearly) equal size along dim.",
      [](const Tensor& t, int64_t n, int64_t dim) { return py::tuple(py::cast(chunk(t, n, dim))); }, py::arg("chunks"),
      py::arg("dim") = 0);
  r.op(
      "unbind", kFunction | kMethod, "The views of each element along dim, without that dim.",
      [](const Tensor& t, int64_t dim) { return py::tuple(py::cast(unbind(t, dim))); }, py::arg("dim") = 0);
  r.op(
      "gather", kFunction | kMethod | kOut, "out[i][j] = input[index[i][j]][j] (for dim 0): values along dim at index.",
      // sparse_grad: PyTorch's option of a sparse gradient; ember's gradients are dense, so it changes nothing.
      [](const Tensor& t, int64_t d, const Tensor& i, bool /*sparse_grad*/) { return gather(t, d, i); }, py::arg("dim"),
      py::arg("index"), py::kw_only(), py::arg("sparse_grad") = false);
  r.op(
      "scatter_add", kFunction | kMethod | kInPlace | kOut, "A copy of input with src added at index along dim.",
      [](const Tensor& t, int64_t d, const Tensor& i, const Tensor& s) { return scatter_add(t, d, i, s); },
      py::arg("dim"), py::arg("index"), py::arg("src"));
  r.op(
      "scatter_reduce", kFunction | kMethod | kInPlace | kOut,
      "A copy of input with src reduced into it at index along dim: reduce is 'sum', 'prod', 'mean', 'amax' or "
      "'amin'; include_self=False leaves input's values at the scattered places out.",
      [](const Tensor& t, int64_t d, const Tensor& i, const Tensor& s, const std::string& reduce, bool include_self) {
        return scatter_reduce(t, d, i, s, reduce, include_self);
      },
      py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"), py::kw_only(),
      py::arg("include_self") = true);
  r.op(
      "index_reduce", kFunction | kMethod | kInPlace | kOut,
      "A copy of input with slice i of source along dim reduced into slice index[i]: reduce is 'prod', 'mean', "
      "'amax' or 'amin'.",
      [](const Tensor& t, int64_t d, const Tensor& i, const Tensor& s, const std::string& reduce, bool include_self) {
        return index_reduce(t, d, i, s, reduce, include_self);
      },
      py::arg("dim"), py::arg("index"), py::arg("source"), py::arg("reduce"), py::kw_only(),
      py::arg("include_self") = true);
  r.op(
      "index_select", kFunction | kMethod | kOut, "The elements of input at the indices of a 1-D index along dim.",
      [](const Tensor& t, int64_t d, const Tensor& i) { return index_select(t, d, i); }, py::arg("dim"),
      py::arg("index"));
  r.op(
      "masked_fill", kFunction | kMethod | kInPlace, "input with value written where mask is true.",
      [](const Tensor& t, const Tensor& mask, TensorOrNumber v) {
        return masked_fill(t, mask, require_operand(v, "masked_fill"));
      },
      py::arg("mask"), py::arg("value"));
  r.op(
      "nonzero", kFunction | kMethod | kOut | kNoGrad,
      "The indices of the nonzero elements: one row per element, or with as_tuple=True one 1-D tensor per dim.",
      [](const Tensor& t, bool as_tuple) -> py::object { return as_tuple ? nonzero_tuple(t) : py::cast(nonzero(t)); },
      py::kw_only(), py::arg("as_tuple") = false);
}

// x.float(memory_format=...): PyTorch's keyword. The default (and preserve_format) converts as to_dtype
// does; another format lays the result out so.
struct ToDType {
  DType dtype;
  Tensor operator()(const Tensor& t, py::handle memory_format) const {
    const MemoryFormat f = memory_format_arg(memory_format, MemoryFormat::Preserve, dtype_name(dtype));
    Tensor converted = to_dtype(t, dtype);
    return f == MemoryFormat::Preserve ? converted : contiguous(converted, f);
  }
};

void register_conversions(OpRegistry& r) {
  r.family("dtype conversions");
  struct Conversion {
    const char* name;
    int flags;
    DType dtype;
    const char* doc;
  };
  for (const Conversion& c : {Conversion{"float", 0, DType::Float32, "self converted to float32."},
                              Conversion{"double", 0, DType::Float64, "self converted to float64."},
                              Conversion{"long", kNoGrad, DType::Int64, "self converted to int64."},
                              Conversion{"int", kNoGrad, DType::Int32, "self converted to int32."},
                              Conversion{"bool", kNoGrad, DType::Bool, "self converted to bool."},
                              Conversion{"half", 0, DType::Float16, "self converted to float16."},
                              Conversion{"bfloat16", 0, DType::BFloat16, "self converted to bfloat16."},
                              Conversion{"short", kNoGrad, DType::Int16, "self converted to int16."},
                              Conversion{"char", kNoGrad, DType::Int8, "self converted to int8."},
                              Conversion{"byte", kNoGrad, DType::UInt8, "self converted to uint8."}})
    r.method(c.name, c.flags, c.doc, ToDType{c.dtype}, py::kw_only(), py::arg("memory_format") = py::none());
  r.method(
      "type_as", 0, "self converted to other's dtype.",
      [](const Tensor& t, const Tensor& o) { return to_dtype(t, o->dtype()); }, py::arg("other"));
  r.method(
      "_to_dtype", 0, "self converted to dtype (used by Tensor.to).",
      [](const Tensor& t, DType d) { return to_dtype(t, d); }, py::arg("dtype"));
  r.method(
      "_to_device", 0, "self copied to device in dtype (used by Tensor.to, .cuda() and .cpu()).",
      [](const Tensor& t, const Device& device, DType d, bool non_blocking) {
        kernels::cuda_dispatch::NonBlockingCopies copies(non_blocking);
        return to_device(t, device, d);
      },
      py::arg("device"), py::arg("dtype"), py::arg("non_blocking") = false);
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
  register_views(r, r.tensor_class());
  register_joining(r);
  register_conversions(r);
}

}  // namespace bind
}  // namespace ember
