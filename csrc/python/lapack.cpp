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
#include <cstring>
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

// The batch of `a` (all but its last two dimensions), checked: C-contiguous, the given dtype, no
// empty matrix (LAPACK refuses a leading dimension of 0; ember.linalg answers those itself).
template <typename T>
T* matrices(py::array& a, const char* what) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || a.ndim() < 2 ||
      a.shape(a.ndim() - 1) < 1 || a.shape(a.ndim() - 2) < 1)
    throw std::invalid_argument(std::string("_lapack: ") + what +
                                " must be a C-contiguous batch of non-empty matrices");
  return static_cast<T*>(a.mutable_data());
}

// matrices(), square ones (n x n), for the routines that take one size.
template <typename T>
T* square(py::array& a, const char* what) {
  T* data = matrices<T>(a, what);
  if (a.shape(a.ndim() - 1) != a.shape(a.ndim() - 2))
    throw std::invalid_argument(std::string("_lapack: ") + what + " must be a batch of square matrices");
  return data;
}

// One of LAPACK's option letters, checked against those the routine takes.
inline char option(char c, const char* allowed, const char* what) {
  if (!std::strchr(allowed, c) || c == 0)
    throw std::invalid_argument(std::string("_lapack: ") + what + " must be one of " + allowed);
  return c;
}

// An array LAPACK reads or writes `each` values of per matrix of a `count` batch, checked the same way and
// for its size, so that no call runs past its end.
template <typename T>
void check_per_matrix(const py::array& a, py::ssize_t count, py::ssize_t each, const char* what) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || a.size() != count * each)
    throw std::invalid_argument(std::string("_lapack: ") + what + " must be a C-contiguous array of " +
                                std::to_string(each) + " values per matrix, " + std::to_string(count) + " matrices");
}
template <typename T>
T* per_matrix(py::array& a, py::ssize_t count, py::ssize_t each, const char* what) {
  check_per_matrix<T>(a, count, each, what);
  return static_cast<T*>(a.mutable_data());
}
template <typename T>  // one LAPACK only reads: it may be a read-only array
const T* per_matrix_in(const py::array& a, py::ssize_t count, py::ssize_t each, const char* what) {
  check_per_matrix<T>(a, count, each, what);
  return static_cast<const T*>(a.data());
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
py::array_t<Int> getrf_batch(py::array a, py::array ipiv) {
  T* data = matrices<T>(a, "a");
  Int n = (Int)a.shape(a.ndim() - 2), m = (Int)a.shape(a.ndim() - 1), k = std::min(m, n);
  Batch b = batch_of(a);
  Int* piv = per_matrix<Int>(ipiv, b.count, k, "ipiv");
  py::gil_scoped_release release;
  for (Int i = 0; i < b.count; ++i) getrf(m, n, data + (size_t)i * m * n, piv + (size_t)i * k, b.infos + i);
  return b.info;
}

// a: (..., n, n), overwritten by its LU; rhs: (..., k, n) holding n x k column-major right-hand sides.
template <typename T>
py::array_t<Int> gesv_batch(py::array a, py::array rhs) {
  T* data = square<T>(a, "a");
  Int n = (Int)a.shape(a.ndim() - 1), k = rhs.ndim() >= 2 ? (Int)rhs.shape(rhs.ndim() - 2) : 0;
  Batch b = batch_of(a);
  T* x = per_matrix<T>(rhs, b.count, (py::ssize_t)n * k, "b");
  py::gil_scoped_release release;
  std::vector<Int> piv(std::max<Int>(n, 1));
  for (Int i = 0; i < b.count; ++i)
    gesv(n, k, data + (size_t)i * n * n, piv.data(), x + (size_t)i * n * k, b.infos + i);
  return b.info;
}

template <typename T>
py::array_t<Int> potrf_batch(py::array a, char uplo) {
  T* data = square<T>(a, "a");
  option(uplo, "UL", "uplo");
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
  Int n = (Int)a.shape(a.ndim() - 2), m = (Int)a.shape(a.ndim() - 1), k = std::min(m, n);
  Batch b = batch_of(a);
  T* taus = per_matrix<T>(tau, b.count, k, "tau");
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
  Int n = (Int)q.shape(q.ndim() - 2), m = (Int)q.shape(q.ndim() - 1),
      k = tau.ndim() ? (Int)tau.shape(tau.ndim() - 1) : 0;
  if (k > n || n > m) throw std::invalid_argument("_lapack: orgqr needs rows >= columns >= reflectors");
  Batch b = batch_of(q);
  T* taus = per_matrix<T>(tau, b.count, k, "tau");
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
  T* data = square<T>(a, "a");
  option(jobz, "NV", "jobz"), option(uplo, "UL", "uplo");
  Int n = (Int)a.shape(a.ndim() - 1);
  Batch b = batch_of(a);
  T* values = per_matrix<T>(w, b.count, n, "w");
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
  Int n = (Int)a.shape(a.ndim() - 2), m = (Int)a.shape(a.ndim() - 1), k = std::min(m, n);
  option(jobz, "NAS", "jobz");
  const bool vectors = jobz != 'N';
  Batch b = batch_of(a);
  T* values = per_matrix<T>(s, b.count, k, "s");
  const Int ucols = jobz == 'A' ? m : k, vtrows = jobz == 'A' ? n : k;  // U: m x ucols, VT: vtrows x n
  T* us = vectors ? per_matrix<T>(u, b.count, (py::ssize_t)m * ucols, "u") : nullptr;
  T* vts = vectors ? per_matrix<T>(vt, b.count, (py::ssize_t)vtrows * n, "vt") : nullptr;
  Int ldu = m, ldvt = vtrows;
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
py::array_t<Int> sytrf_batch(py::array a, py::array ipiv) {
  T* data = square<T>(a, "a");
  Int n = (Int)a.shape(a.ndim() - 1);
  Batch b = batch_of(a);
  Int* piv = per_matrix<Int>(ipiv, b.count, n, "ipiv");
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
py::array_t<Int> sytrs_batch(py::array ld, py::array ipiv, py::array rhs) {
  T* data = square<T>(ld, "ld");
  Int n = (Int)ld.shape(ld.ndim() - 1), k = rhs.ndim() >= 2 ? (Int)rhs.shape(rhs.ndim() - 2) : 0;
  Batch b = batch_of(ld);
  const Int* piv = per_matrix_in<Int>(ipiv, b.count, n, "ipiv");
  T* x = per_matrix<T>(rhs, b.count, (py::ssize_t)n * k, "b");
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
      [](py::array a, py::array ipiv) { return by_precision(a, getrf_batch<float>, getrf_batch<double>)(a, ipiv); },
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
      [](py::array a, py::array ipiv) { return by_precision(a, sytrf_batch<float>, sytrf_batch<double>)(a, ipiv); },
      py::arg("a"), py::arg("ipiv"), "LDL^T of the lower triangles (Bunch-Kaufman), in place; returns info.");
  m.def(
      "_lapack_sytrs",
      [](py::array ld, py::array ipiv, py::array rhs) {
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
