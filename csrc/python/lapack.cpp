// ember._C._lapack_*: LAPACK's factorizations from the OpenBLAS ember links
// (scipy-openblas32), on batches of numpy arrays, for ember.linalg
// (python/ember/_lapack.py arranges the layouts and reads `info`).
//
// Every function takes C-contiguous float32 or float64 arrays whose last two
// dimensions hold one column-major matrix each (the Python side passes the
// transpose of a C-ordered matrix, or relies on symmetry), works in place,
// loops over the batch without the GIL and returns LAPACK's `info` per matrix.
// The workspace is queried once per call: every matrix of a batch has the same
// dimensions, so the same sizes serve all of them.
// scipy-openblas prefixes its symbols (scipy_sgetrf_); lapack.h names them through this macro.
#define LAPACK_GLOBAL(lcname, UCNAME) scipy_##lcname##_
#include <lapack.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "python/common.h"

namespace ember {
namespace lapack {

using Int = lapack_int;

// The typed entry points: one overload per precision, so the drivers below are
// written once as templates.
inline void getrf(Int m, Int n, float* a, Int* ipiv, Int* info) { LAPACK_sgetrf(&m, &n, a, &m, ipiv, info); }
inline void getrf(Int m, Int n, double* a, Int* ipiv, Int* info) { LAPACK_dgetrf(&m, &n, a, &m, ipiv, info); }
inline void gesv(Int n, Int k, float* a, Int* ipiv, float* b, Int* info) {
  LAPACK_sgesv(&n, &k, a, &n, ipiv, b, &n, info);
}
inline void gesv(Int n, Int k, double* a, Int* ipiv, double* b, Int* info) {
  LAPACK_dgesv(&n, &k, a, &n, ipiv, b, &n, info);
}
inline void potrf(char uplo, Int n, float* a, Int* info) { scipy_LAPACK_spotrf(&uplo, &n, a, &n, info); }
inline void potrf(char uplo, Int n, double* a, Int* info) { scipy_LAPACK_dpotrf(&uplo, &n, a, &n, info); }
inline void geqrf(Int m, Int n, float* a, float* tau, float* work, Int lwork, Int* info) {
  LAPACK_sgeqrf(&m, &n, a, &m, tau, work, &lwork, info);
}
inline void geqrf(Int m, Int n, double* a, double* tau, double* work, Int lwork, Int* info) {
  LAPACK_dgeqrf(&m, &n, a, &m, tau, work, &lwork, info);
}
inline void orgqr(Int m, Int n, Int k, float* a, float* tau, float* work, Int lwork, Int* info) {
  LAPACK_sorgqr(&m, &n, &k, a, &m, tau, work, &lwork, info);
}
inline void orgqr(Int m, Int n, Int k, double* a, double* tau, double* work, Int lwork, Int* info) {
  LAPACK_dorgqr(&m, &n, &k, a, &m, tau, work, &lwork, info);
}
inline void syevd(char jobz, char uplo, Int n, float* a, float* w, float* work, Int lwork, Int* iwork, Int liwork,
                  Int* info) {
  scipy_LAPACK_ssyevd(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, info);
}
inline void syevd(char jobz, char uplo, Int n, double* a, double* w, double* work, Int lwork, Int* iwork, Int liwork,
                  Int* info) {
  scipy_LAPACK_dsyevd(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, info);
}
inline void gesdd(char jobz, Int m, Int n, float* a, float* s, float* u, Int ldu, float* vt, Int ldvt, float* work,
                  Int lwork, Int* iwork, Int* info) {
  scipy_LAPACK_sgesdd(&jobz, &m, &n, a, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, info);
}
inline void gesdd(char jobz, Int m, Int n, double* a, double* s, double* u, Int ldu, double* vt, Int ldvt, double* work,
                  Int lwork, Int* iwork, Int* info) {
  scipy_LAPACK_dgesdd(&jobz, &m, &n, a, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, info);
}

inline void sytrf(Int n, float* a, Int* ipiv, float* work, Int lwork, Int* info) {
  scipy_LAPACK_ssytrf("L", &n, a, &n, ipiv, work, &lwork, info);
}
inline void sytrf(Int n, double* a, Int* ipiv, double* work, Int lwork, Int* info) {
  scipy_LAPACK_dsytrf("L", &n, a, &n, ipiv, work, &lwork, info);
}
inline void sytrs(Int n, Int k, const float* a, const Int* ipiv, float* b, Int* info) {
  scipy_LAPACK_ssytrs("L", &n, &k, a, &n, ipiv, b, &n, info);
}
inline void sytrs(Int n, Int k, const double* a, const Int* ipiv, double* b, Int* info) {
  scipy_LAPACK_dsytrs("L", &n, &k, a, &n, ipiv, b, &n, info);
}

// A workspace size LAPACK reported through a query (lwork = -1), as a count.
template <typename T>
Int queried(T size) {
  return std::max<Int>(1, (Int)size);
}

struct Batch {
  py::array_t<Int> info;
  Int* infos;
  Int count;
};

// The batch of `a` (all but its last two dimensions), checked: C-contiguous, the given dtype.
template <typename T>
T* matrices(py::array& a, const char* what) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || a.ndim() < 2)
    throw std::invalid_argument(std::string("_lapack: ") + what + " must be a C-contiguous batch of matrices");
  return static_cast<T*>(a.mutable_data());
}

inline Batch batch_of(const py::array& a) {
  std::vector<py::ssize_t> shape(a.shape(), a.shape() + a.ndim() - 2);
  py::array_t<Int> info(shape);
  Int count = (Int)info.size();
  Int* infos = info.mutable_data();
  std::fill(infos, infos + count, 0);
  return {info, infos, count};
}

// a: (..., n, m) holding m x n column-major matrices; ipiv: (..., min(m, n)) int32.
template <typename T>
py::array_t<Int> getrf_batch(py::array a, py::array_t<Int> ipiv) {
  T* data = matrices<T>(a, "a");
  Int n = (Int)a.shape(a.ndim() - 2), m = (Int)a.shape(a.ndim() - 1), k = std::min(m, n);
  Batch b = batch_of(a);
  Int* piv = ipiv.mutable_data();
  py::gil_scoped_release release;
  for (Int i = 0; i < b.count; ++i) getrf(m, n, data + (size_t)i * m * n, piv + (size_t)i * k, b.infos + i);
  return b.info;
}

// a: (..., n, n), overwritten by its LU; rhs: (..., k, n) holding n x k column-major right-hand sides.
template <typename T>
py::array_t<Int> gesv_batch(py::array a, py::array rhs) {
  T* data = matrices<T>(a, "a");
  T* x = matrices<T>(rhs, "b");
  Int n = (Int)a.shape(a.ndim() - 1), k = (Int)rhs.shape(rhs.ndim() - 2);
  Batch b = batch_of(a);
  py::gil_scoped_release release;
  std::vector<Int> piv(std::max<Int>(n, 1));
  for (Int i = 0; i < b.count; ++i)
    gesv(n, k, data + (size_t)i * n * n, piv.data(), x + (size_t)i * n * k, b.infos + i);
  return b.info;
}

template <typename T>
py::array_t<Int> potrf_batch(py::array a, char uplo) {
  T* data = matrices<T>(a, "a");
  Int n = (Int)a.shape(a.ndim() - 1);
  Batch b = batch_of(a);
  py::gil_scoped_release release;
  for (Int i = 0; i < b.count; ++i) potrf(uplo, n, data + (size_t)i * n * n, b.infos + i);
  return b.info;
}

// a: (..., n, m) holding m x n column-major matrices; tau: (..., min(m, n)).
template <typename T>
py::array_t<Int> geqrf_batch(py::array a, py::array tau) {
  T* data = matrices<T>(a, "a");
  T* taus = static_cast<T*>(tau.mutable_data());
  Int n = (Int)a.shape(a.ndim() - 2), m = (Int)a.shape(a.ndim() - 1), k = std::min(m, n);
  Batch b = batch_of(a);
  py::gil_scoped_release release;
  T size = 0;
  geqrf(m, n, data, taus, &size, -1, b.infos);
  std::vector<T> work(queried(size));
  for (Int i = 0; i < b.count; ++i)
    geqrf(m, n, data + (size_t)i * m * n, taus + (size_t)i * k, work.data(), (Int)work.size(), b.infos + i);
  return b.info;
}

// q: (..., n, m) holding the reflectors of geqrf in its first k columns (m x n column-major),
// overwritten by the first n columns of Q; tau: (..., k).
template <typename T>
py::array_t<Int> orgqr_batch(py::array q, py::array tau) {
  T* data = matrices<T>(q, "q");
  T* taus = static_cast<T*>(tau.mutable_data());
  Int n = (Int)q.shape(q.ndim() - 2), m = (Int)q.shape(q.ndim() - 1), k = (Int)tau.shape(tau.ndim() - 1);
  Batch b = batch_of(q);
  py::gil_scoped_release release;
  T size = 0;
  orgqr(m, n, k, data, taus, &size, -1, b.infos);
  std::vector<T> work(queried(size));
  for (Int i = 0; i < b.count; ++i)
    orgqr(m, n, k, data + (size_t)i * m * n, taus + (size_t)i * k, work.data(), (Int)work.size(), b.infos + i);
  return b.info;
}

// a: (..., n, n) symmetric, overwritten by the eigenvectors (columns) when jobz is 'V'; w: (..., n).
template <typename T>
py::array_t<Int> syevd_batch(py::array a, py::array w, char jobz, char uplo) {
  T* data = matrices<T>(a, "a");
  T* values = static_cast<T*>(w.mutable_data());
  Int n = (Int)a.shape(a.ndim() - 1);
  Batch b = batch_of(a);
  py::gil_scoped_release release;
  T size = 0;
  Int isize = 0;
  syevd(jobz, uplo, n, data, values, &size, -1, &isize, -1, b.infos);
  std::vector<T> work(queried(size));
  std::vector<Int> iwork(queried(isize));
  for (Int i = 0; i < b.count; ++i)
    syevd(jobz, uplo, n, data + (size_t)i * n * n, values + (size_t)i * n, work.data(), (Int)work.size(), iwork.data(),
          (Int)iwork.size(), b.infos + i);
  return b.info;
}

// a: (..., n, m) holding m x n column-major matrices (destroyed); s: (..., min(m, n));
// u: (..., ucols, m) and vt: (..., n, vtrows), column-major, for jobz 'A' or 'S' (ignored for 'N').
template <typename T>
py::array_t<Int> gesdd_batch(py::array a, py::array s, py::array u, py::array vt, char jobz) {
  T* data = matrices<T>(a, "a");
  T* values = static_cast<T*>(s.mutable_data());
  Int n = (Int)a.shape(a.ndim() - 2), m = (Int)a.shape(a.ndim() - 1), k = std::min(m, n);
  bool vectors = jobz != 'N';
  T* us = vectors ? matrices<T>(u, "u") : nullptr;
  T* vts = vectors ? matrices<T>(vt, "vt") : nullptr;
  Int ucols = vectors ? (Int)u.shape(u.ndim() - 2) : 0;
  Int vtrows = vectors ? (Int)vt.shape(vt.ndim() - 1) : 1;
  Int ldu = std::max<Int>(m, 1), ldvt = std::max<Int>(vtrows, 1);
  Batch b = batch_of(a);
  py::gil_scoped_release release;
  T size = 0;
  T unused = 0;
  std::vector<Int> iwork(std::max<Int>(8 * k, 1));
  gesdd(jobz, m, n, data, values, vectors ? us : &unused, ldu, vectors ? vts : &unused, ldvt, &size, -1, iwork.data(),
        b.infos);
  std::vector<T> work(queried(size));
  for (Int i = 0; i < b.count; ++i)
    gesdd(jobz, m, n, data + (size_t)i * m * n, values + (size_t)i * k, vectors ? us + (size_t)i * m * ucols : &unused,
          ldu, vectors ? vts + (size_t)i * n * vtrows : &unused, ldvt, work.data(), (Int)work.size(), iwork.data(),
          b.infos + i);
  return b.info;
}

// a: (..., n, n) column-major, its lower triangle factored as L D L^T (Bunch-Kaufman); ipiv: (..., n).
template <typename T>
py::array_t<Int> sytrf_batch(py::array a, py::array_t<Int> ipiv) {
  T* data = matrices<T>(a, "a");
  Int n = (Int)a.shape(a.ndim() - 1);
  Int* piv = ipiv.mutable_data();
  Batch b = batch_of(a);
  py::gil_scoped_release release;
  T size = 0;
  sytrf(n, data, piv, &size, -1, b.infos);
  std::vector<T> work(queried(size));
  for (Int i = 0; i < b.count; ++i)
    sytrf(n, data + (size_t)i * n * n, piv + (size_t)i * n, work.data(), (Int)work.size(), b.infos + i);
  return b.info;
}

// ld, ipiv: sytrf's factors (..., n, n) and (..., n); rhs: (..., k, n), n x k column-major, overwritten by X.
template <typename T>
py::array_t<Int> sytrs_batch(py::array ld, py::array_t<Int> ipiv, py::array rhs) {
  T* data = matrices<T>(ld, "ld");
  T* x = matrices<T>(rhs, "b");
  Int n = (Int)ld.shape(ld.ndim() - 1), k = (Int)rhs.shape(rhs.ndim() - 2);
  const Int* piv = ipiv.data();
  Batch b = batch_of(ld);
  py::gil_scoped_release release;
  for (Int i = 0; i < b.count; ++i)
    sytrs(n, k, data + (size_t)i * n * n, piv + (size_t)i * n, x + (size_t)i * n * k, b.infos + i);
  return b.info;
}

// The float64 instantiation for float64 arrays, else float32's (which checks its argument).
template <typename F32, typename F64>
auto by_precision(const py::array& a, F32 f32, F64 f64) {
  return py::isinstance<py::array_t<double>>(a) ? f64 : f32;
}

}  // namespace lapack

namespace bind {

void init_lapack(py::module_& m) {
  using namespace lapack;
  // Private names of ember._C (a submodule would turn the generated _C.pyi into a package).
  m.def(
      "_lapack_getrf",
      [](py::array a, py::array_t<Int> ipiv) {
        return by_precision(a, getrf_batch<float>, getrf_batch<double>)(a, ipiv);
      },
      py::arg("a"), py::arg("ipiv"), "LU with partial pivoting, in place; returns info.");
  m.def(
      "_lapack_gesv",
      [](py::array a, py::array rhs) { return by_precision(a, gesv_batch<float>, gesv_batch<double>)(a, rhs); },
      py::arg("a"), py::arg("b"), "Solves A X = B in place (B becomes X); returns info.");
  m.def(
      "_lapack_potrf",
      [](py::array a, char uplo) { return by_precision(a, potrf_batch<float>, potrf_batch<double>)(a, uplo); },
      py::arg("a"), py::arg("uplo"), "Cholesky factor of the uplo triangle, in place; returns info.");
  m.def(
      "_lapack_geqrf",
      [](py::array a, py::array tau) { return by_precision(a, geqrf_batch<float>, geqrf_batch<double>)(a, tau); },
      py::arg("a"), py::arg("tau"), "Householder QR, in place; returns info.");
  m.def(
      "_lapack_orgqr",
      [](py::array q, py::array tau) { return by_precision(q, orgqr_batch<float>, orgqr_batch<double>)(q, tau); },
      py::arg("q"), py::arg("tau"), "Q from geqrf's reflectors, in place; returns info.");
  m.def(
      "_lapack_sytrf",
      [](py::array a, py::array_t<Int> ipiv) {
        return by_precision(a, sytrf_batch<float>, sytrf_batch<double>)(a, ipiv);
      },
      py::arg("a"), py::arg("ipiv"), "LDL^T of the lower triangles (Bunch-Kaufman), in place; returns info.");
  m.def(
      "_lapack_sytrs",
      [](py::array ld, py::array_t<Int> ipiv, py::array rhs) {
        return by_precision(ld, sytrs_batch<float>, sytrs_batch<double>)(ld, ipiv, rhs);
      },
      py::arg("ld"), py::arg("ipiv"), py::arg("b"), "Solves A X = B from sytrf's factors (B becomes X); returns info.");
  m.def(
      "_lapack_syevd",
      [](py::array a, py::array w, char jobz, char uplo) {
        return by_precision(a, syevd_batch<float>, syevd_batch<double>)(a, w, jobz, uplo);
      },
      py::arg("a"), py::arg("w"), py::arg("jobz"), py::arg("uplo"),
      "Eigenvalues (and eigenvectors) of symmetric matrices; returns info.");
  m.def(
      "_lapack_gesdd",
      [](py::array a, py::array s, py::array u, py::array vt, char jobz) {
        return by_precision(a, gesdd_batch<float>, gesdd_batch<double>)(a, s, u, vt, jobz);
      },
      py::arg("a"), py::arg("s"), py::arg("u"), py::arg("vt"), py::arg("jobz"),
      "Singular values (and vectors) by divide and conquer; returns info.");
}

}  // namespace bind
}  // namespace ember
