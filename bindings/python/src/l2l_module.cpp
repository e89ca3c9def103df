// l2l._l2l — the pybind11 shim over the C ABI of include/l2l.h.
//
// Argument conversion only: every l2l_* call goes through check(), which turns a
// non-zero status into an l2l.Error subclass carrying the C function's name and
// l2l_last_error(). Arrays cross through the Python buffer protocol (py::buffer,
// request(), format/ndim/stride checks) and outputs are made by calling numpy.empty
// and filling their buffer. pybind11/numpy.h is deliberately not used: Debian's
// pybind11 2.10.3 reads and writes NumPy 2 arrays at wrong offsets (see DESIGN.md).
//
// Handles are used by one call at a time (l2l.h's threading rule). The GIL is
// released around long calls, so each handle carries a `busy` flag, checked and set
// with the GIL held: a second use while a call is running (from another thread, or from
// inside a progress callback) raises l2l.StateError instead of racing.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // std::optional<std::string> for nullable C strings

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "l2l.h"

namespace py = pybind11;

namespace {

// ---------------------------------------------------------------------------------
// Exceptions
// ---------------------------------------------------------------------------------

// Exception classes indexed by status code (0 unused); [0] holds the base l2l.Error.
PyObject *exception_types[L2L_ERR_INTERNAL + 1] = {};

PyObject *exception_for(l2l_status status) {
    if (status >= 1 && status <= L2L_ERR_INTERNAL && exception_types[status] != nullptr) {
        return exception_types[status];
    }
    return exception_types[0];
}

// Raises the exception for `status`: message "function: detail", attributes
// .status, .function and .detail.
[[noreturn]] void raise_error(l2l_status status, const char *function, const std::string &detail) {
    std::string prefix = std::string(function) + ":";
    std::string message = detail.rfind(prefix, 0) == 0 ? detail : std::string(function) + ": " + detail;
    PyObject *type = exception_for(status);
    py::object instance = py::reinterpret_steal<py::object>(PyObject_CallFunction(type, "s", message.c_str()));
    if (!instance) throw py::error_already_set();
    instance.attr("status") = py::int_(status);
    instance.attr("function") = py::str(function);
    instance.attr("detail") = py::str(detail);
    PyErr_SetObject(type, instance.ptr());
    throw py::error_already_set();
}

// The one place a C status becomes a Python exception. Call it with the GIL held and on
// the thread that made the call (l2l_last_error() is thread-local).
void check(l2l_status status, const char *function) {
    if (status == L2L_OK) return;
    std::string detail = l2l_last_error();
    if (detail.empty()) detail = std::string("failed: ") + l2l_status_string(status);
    raise_error(status, function, detail);
}

/// A new handle of `Owner` from a file: `load(&out, path)` runs without the GIL (it reads
/// and checks the whole file); its status is raised as the matching exception.
template <typename Owner, typename Handle>
std::unique_ptr<Owner> load_file(l2l_status (*load)(Handle **, const char *), const std::string &path,
                                 const char *function) {
    Handle *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = load(&out, path.c_str());
    }
    check(s, function);
    return std::make_unique<Owner>(out);
}

// l2l_build_info's text: asks for the size, then fills a buffer of that size.
std::string build_info() {
    const char *fn = "l2l_build_info";
    int64_t length = 0;
    check(l2l_build_info(nullptr, 0, &length), fn);
    std::vector<char> text(static_cast<size_t>(length));
    check(l2l_build_info(text.data(), length, &length), fn);
    return std::string(text.data());
}

// ---------------------------------------------------------------------------------
// Arrays through the buffer protocol
// ---------------------------------------------------------------------------------

enum class Element { float32, int32, float64, int64 };

const char *element_name(Element e) {
    switch (e) {
    case Element::float32: return "float32";
    case Element::int32: return "int32";
    case Element::float64: return "float64";
    default: return "int64";
    }
}

size_t element_size(Element e) { return e == Element::float32 || e == Element::int32 ? 4 : 8; }

// True if a buffer's format string denotes `e` in native byte order.
bool format_matches(const py::buffer_info &b, Element e) {
    if (static_cast<size_t>(b.itemsize) != element_size(e)) return false;
    std::string f = b.format;
    if (f.size() == 2 && (f[0] == '@' || f[0] == '=')) f.erase(0, 1);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (f.size() == 2 && f[0] == '<') f.erase(0, 1);
#else
    if (f.size() == 2 && (f[0] == '>' || f[0] == '!')) f.erase(0, 1);
#endif
    switch (e) {
    case Element::float32: return f == "f";
    case Element::float64: return f == "d";
    case Element::int32: return f == "i" || (f == "l" && sizeof(long) == 4);
    default: return f == "q" || (f == "l" && sizeof(long) == 8);
    }
}

// True if the buffer is laid out row-major without gaps (size-1 axes may have any stride).
bool c_contiguous(const py::buffer_info &b) {
    py::ssize_t expected = b.itemsize;
    for (py::ssize_t i = b.ndim - 1; i >= 0; --i) {
        if (b.shape[i] != 1 && b.strides[i] != expected) return false;
        expected *= b.shape[i];
    }
    return true;
}

// A checked view of an array argument: `element` type, `ndim` dimensions, C-contiguous.
// The buffer_info keeps the exporter's buffer alive (and unresizable) while it lives.
py::buffer_info request_array(py::handle obj, const char *function, const char *what, Element element,
                              py::ssize_t ndim, bool writable = false) {
    if (!PyObject_CheckBuffer(obj.ptr())) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, function,
                    std::string(what) + " must be a numpy array (an object with the buffer protocol), got " +
                        std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
    }
    py::buffer_info b = py::reinterpret_borrow<py::buffer>(obj).request(writable);
    if (!format_matches(b, element)) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, function,
                    std::string(what) + " must hold " + element_name(element) + " values, got buffer format '" +
                        b.format + "' (convert with numpy.ascontiguousarray(a, dtype=numpy." +
                        element_name(element) + "))");
    }
    if (b.ndim != ndim) {
        raise_error(L2L_ERR_SHAPE, function,
                    std::string(what) + " must have " + std::to_string(ndim) + " dimension" + (ndim == 1 ? "" : "s") +
                        ", got " + std::to_string(b.ndim));
    }
    if (!c_contiguous(b)) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, function,
                    std::string(what) + " must be C-contiguous (use numpy.ascontiguousarray)");
    }
    return b;
}

// A new numpy array of `shape` made by numpy.empty, and a checked writable view of it.
std::pair<py::object, py::buffer_info> new_array(std::initializer_list<py::ssize_t> shape, Element element) {
    py::tuple dims(shape.size());
    size_t i = 0;
    for (py::ssize_t d : shape) dims[i++] = py::int_(d);
    py::object array = py::module_::import("numpy").attr("empty")(dims, py::arg("dtype") = element_name(element));
    py::buffer_info b = request_array(array, "numpy.empty", "the new array", element,
                                      static_cast<py::ssize_t>(shape.size()), true);
    return {std::move(array), std::move(b)};
}

// ---------------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------------

// The base of every bound object that holds an l2l handle. Its type caster (below) is the
// one place where a Python object becomes the C++ object a binding works on.
struct HandleObject {};

}  // namespace

namespace pybind11::detail {
// An object made by `Class.__new__(Class)` without `__init__` has no C++ object behind it:
// pybind11 would hand the binding uninitialised memory (and a garbage handle). Every
// HandleObject argument, `self` included, is refused with l2l.InvalidArgumentError instead.
template <typename T>
struct type_caster<T, enable_if_t<std::is_base_of<HandleObject, T>::value>> : type_caster_base<T> {
    bool load(handle src, bool convert) {
        const type_info *info = get_type_info(typeid(T));
        if (info != nullptr && isinstance(src, reinterpret_borrow<object>(reinterpret_cast<PyObject *>(info->type)))) {
            value_and_holder v_h = reinterpret_cast<instance *>(src.ptr())->get_value_and_holder(info);
            if (!v_h.holder_constructed()) {
                std::string name = Py_TYPE(src.ptr())->tp_name;
                raise_error(L2L_ERR_INVALID_ARGUMENT, name.c_str(),
                            "the object was never initialised (made by __new__ without __init__); "
                            "create it with its constructor or factory function");
            }
        }
        return type_caster_base<T>::load(src, convert);
    }
};
}  // namespace pybind11::detail

namespace {

// Marks handles as in use for the duration of a call; raises l2l.StateError if one already is.
class InUse {
public:
    InUse(const char *function, std::initializer_list<bool *> flags)
        : InUse(function, std::vector<bool *>(flags)) {}
    InUse(const char *function, const std::vector<bool *> &flags) {
        for (bool *f : flags) {
            if (*f) {
                raise_error(L2L_ERR_STATE, function,
                            "the object is in use by another call (another thread, or the l2l_train this "
                            "progress callback runs in); an l2l object serves one call at a time");
            }
        }
        for (bool *f : flags) {
            *f = true;
            flags_.push_back(f);
        }
    }
    ~InUse() {
        for (bool *f : flags_) *f = false;
    }
    InUse(const InUse &) = delete;
    InUse &operator=(const InUse &) = delete;

private:
    std::vector<bool *> flags_;
};

/// Writes `owner`'s handle to `path` with `save(handle, path)`, the handle marked in use and
/// the GIL released while the file is written; its status is raised as the matching exception.
template <typename Owner, typename Handle>
void save_file(l2l_status (*save)(const Handle *, const char *), Owner &owner, const std::string &path,
               const char *function) {
    InUse use(function, {&owner.busy});
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = save(owner.handle, path.c_str());
    }
    check(s, function);
}

// An owned C handle, freed with `Free` when the Python object dies, and a flag that marks
// it in use by a call (see InUse). One template for every kind of handle.
template <typename T, void (*Free)(T *)>
struct Owned : HandleObject {
    T *handle = nullptr;
    bool busy = false;
    explicit Owned(T *h) : handle(h) {}
    Owned(const Owned &) = delete;
    Owned &operator=(const Owned &) = delete;
    ~Owned() { Free(handle); }
};

struct Dataset : Owned<l2l_dataset, l2l_dataset_free> {
    using Owned::Owned;
    std::tuple<int64_t, int64_t, int64_t> info() const {
        int64_t count = 0, features = 0, classes = 0;
        check(l2l_dataset_info(handle, &count, &features, &classes), "l2l_dataset_info");
        return {count, features, classes};
    }
};

struct Batches : Owned<l2l_batches, l2l_batches_free> {
    int64_t batch_size = 0;
    int64_t features = 0;
    Batches(l2l_batches *h, int64_t size, int64_t f) : Owned(h), batch_size(size), features(f) {}
};

struct Learner : Owned<l2l_learner, l2l_learner_free> {
    using Owned::Owned;
    std::tuple<int64_t, int64_t, int64_t, int64_t> info() const {
        int64_t params = 0, tensors = 0, features = 0, classes = 0;
        check(l2l_learner_info(handle, &params, &tensors, &features, &classes), "l2l_learner_info");
        return {params, tensors, features, classes};
    }
};

struct Optimizer : Owned<l2l_optimizer, l2l_optimizer_free> {
    using Owned::Owned;
};

struct Learned : Owned<l2l_learned, l2l_learned_free> {
    using Owned::Owned;
    int64_t meta_count() const {
        int64_t n = 0;
        check(l2l_learned_info(handle, &n, nullptr), "l2l_learned_info");
        return n;
    }
};

struct MetaTrainer : Owned<l2l_meta_trainer, l2l_meta_trainer_free> {
    using Owned::Owned;
    // The CallbackTask objects of a trainer made from callback tasks (kept alive with it).
    std::vector<py::object> tasks;
};

struct MetaTest : Owned<l2l_meta_test, l2l_meta_test_free> {
    using Owned::Owned;
};

struct MLHF : Owned<l2l_mlhf, l2l_mlhf_free> {
    using Owned::Owned;
    int64_t meta_count() const {
        int64_t n = 0;
        check(l2l_mlhf_info(handle, &n, nullptr), "l2l_mlhf_info");
        return n;
    }
};

struct MLHFTrainer : Owned<l2l_mlhf_trainer, l2l_mlhf_trainer_free> {
    using Owned::Owned;
};

const char *c_str_or_null(const std::optional<std::string> &s) { return s ? s->c_str() : nullptr; }

// ---------------------------------------------------------------------------------
// Data sets and batches
// ---------------------------------------------------------------------------------

std::unique_ptr<Dataset> dataset_load(const std::string &name, const std::string &split,
                                      const std::optional<std::string> &directory) {
    l2l_dataset *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_dataset_load(&out, name.c_str(), split.c_str(), c_str_or_null(directory));
    }
    check(s, "l2l_dataset_load");
    return std::make_unique<Dataset>(out);
}

std::unique_ptr<Dataset> dataset_load_idx(const std::string &images, const std::string &labels) {
    l2l_dataset *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_dataset_load_idx(&out, images.c_str(), labels.c_str());
    }
    check(s, "l2l_dataset_load_idx");
    return std::make_unique<Dataset>(out);
}

std::unique_ptr<Dataset> dataset_create(py::handle inputs, py::handle labels, int64_t classes) {
    const char *fn = "l2l_dataset_create";
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    py::buffer_info y = request_array(labels, fn, "labels", Element::int32, 1);
    if (y.shape[0] != x.shape[0]) {
        raise_error(L2L_ERR_SHAPE, fn,
                    "inputs have " + std::to_string(x.shape[0]) + " rows but there are " +
                        std::to_string(y.shape[0]) + " labels");
    }
    l2l_dataset *out = nullptr;
    check(l2l_dataset_create(&out, static_cast<const float *>(x.ptr), static_cast<const int32_t *>(y.ptr),
                             x.shape[0], x.shape[1], classes),
          fn);
    return std::make_unique<Dataset>(out);
}

py::tuple dataset_statistics(Dataset &d) {
    InUse use("l2l_dataset_statistics", {&d.busy});
    float mean = 0, std = 0;
    check(l2l_dataset_statistics(d.handle, &mean, &std), "l2l_dataset_statistics");
    return py::make_tuple(mean, std);
}

void dataset_standardize(Dataset &d, float mean, float std) {
    InUse use("l2l_dataset_standardize", {&d.busy});
    check(l2l_dataset_standardize(d.handle, mean, std), "l2l_dataset_standardize");
}

// Examples [start, start + count) as new arrays (None for a part not asked for).
py::tuple dataset_read(Dataset &d, int64_t start, int64_t count, bool want_inputs, bool want_labels) {
    const char *fn = "l2l_dataset_read";
    InUse use(fn, {&d.busy});
    if (count < 0) raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "count must be non-negative, got " + std::to_string(count));
    int64_t features = std::get<1>(d.info());
    py::object x = py::none(), y = py::none();
    float *xp = nullptr;
    int32_t *yp = nullptr;
    std::optional<py::buffer_info> xb, yb;
    if (want_inputs) {
        auto a = new_array({count, features}, Element::float32);
        x = std::move(a.first);
        xb.emplace(std::move(a.second));
        xp = static_cast<float *>(xb->ptr);
    }
    if (want_labels) {
        auto a = new_array({count}, Element::int32);
        y = std::move(a.first);
        yb.emplace(std::move(a.second));
        yp = static_cast<int32_t *>(yb->ptr);
    }
    if (count > 0 && (xp != nullptr || yp != nullptr)) {
        check(l2l_dataset_read(d.handle, start, count, xp, yp), fn);
    } else {
        check(l2l_dataset_read(d.handle, start, count, nullptr, nullptr), fn);  // range check only
    }
    return py::make_tuple(x, y);
}

std::unique_ptr<Batches> batches_create(Dataset &d, int64_t batch_size, uint64_t seed,
                                        const std::optional<std::string> &options) {
    const char *fn = "l2l_batches_create";
    InUse use(fn, {&d.busy});
    int64_t features = std::get<1>(d.info());
    l2l_batches *out = nullptr;
    check(l2l_batches_create(&out, d.handle, batch_size, seed, c_str_or_null(options)), fn);
    return std::make_unique<Batches>(out, batch_size, features);
}

// The next batch as (inputs, labels), or None at the end of an epoch.
py::object batches_next(Batches &b) {
    const char *fn = "l2l_batches_next";
    InUse use(fn, {&b.busy});
    auto x = new_array({b.batch_size, b.features}, Element::float32);
    auto y = new_array({b.batch_size}, Element::int32);
    int64_t count = 0;
    check(l2l_batches_next(b.handle, static_cast<float *>(x.second.ptr), b.batch_size * b.features,
                           static_cast<int32_t *>(y.second.ptr), b.batch_size, &count),
          fn);
    if (count == 0) return py::none();
    if (count == b.batch_size) return py::make_tuple(x.first, y.first);
    py::slice rows(0, static_cast<py::ssize_t>(count), 1);
    return py::make_tuple(x.first[rows], y.first[rows]);
}

// ---------------------------------------------------------------------------------
// Data-set transforms, splits, per-feature statistics; synthetic data and task samplers
// ---------------------------------------------------------------------------------

py::tuple dataset_example_shape(Dataset &d) {
    const char *fn = "l2l_dataset_example_shape";
    InUse use(fn, {&d.busy});
    int64_t rank = 0;
    check(l2l_dataset_example_shape(d.handle, nullptr, 0, &rank), fn);
    std::vector<int64_t> shape(static_cast<size_t>(rank));
    check(l2l_dataset_example_shape(d.handle, shape.data(), rank, &rank), fn);
    py::tuple t(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
    return t;
}

std::unique_ptr<Dataset> dataset_grey_crop(Dataset &d, int64_t rows, int64_t columns,
                                           const std::optional<std::string> &options) {
    const char *fn = "l2l_dataset_grey_crop";
    InUse use(fn, {&d.busy});
    l2l_dataset *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_dataset_grey_crop(&out, d.handle, rows, columns, c_str_or_null(options));
    }
    check(s, fn);
    return std::make_unique<Dataset>(out);
}

// (train, validation, test); a part of 0 examples is None.
py::tuple dataset_split(Dataset &d, int64_t train, int64_t validation, int64_t test, uint64_t seed) {
    const char *fn = "l2l_dataset_split";
    InUse use(fn, {&d.busy});
    l2l_dataset *parts[3] = {nullptr, nullptr, nullptr};
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_dataset_split(d.handle, train, validation, test, seed, &parts[0], &parts[1], &parts[2]);
    }
    check(s, fn);
    // Own every part before anything can throw.
    std::unique_ptr<Dataset> owned[3];
    for (int i = 0; i < 3; ++i)
        if (parts[i] != nullptr) owned[i] = std::make_unique<Dataset>(parts[i]);
    py::tuple result(3);
    for (int i = 0; i < 3; ++i) result[i] = owned[i] ? py::cast(std::move(owned[i])) : py::none();
    return result;
}

// (mean, std), each a new float32 array of `features` values.
py::tuple dataset_feature_statistics(Dataset &d) {
    const char *fn = "l2l_dataset_feature_statistics";
    InUse use(fn, {&d.busy});
    int64_t features = std::get<1>(d.info());
    auto mean = new_array({features}, Element::float32);
    auto std = new_array({features}, Element::float32);
    check(l2l_dataset_feature_statistics(d.handle, static_cast<float *>(mean.second.ptr),
                                         static_cast<float *>(std.second.ptr), features),
          fn);
    return py::make_tuple(mean.first, std.first);
}

void dataset_standardize_features(Dataset &d, py::handle mean, py::handle std) {
    const char *fn = "l2l_dataset_standardize_features";
    InUse use(fn, {&d.busy});
    py::buffer_info m = request_array(mean, fn, "mean", Element::float32, 1);
    py::buffer_info s = request_array(std, fn, "std", Element::float32, 1);
    if (m.shape[0] != s.shape[0]) {
        raise_error(L2L_ERR_SHAPE, fn,
                    "mean has " + std::to_string(m.shape[0]) + " values but std has " + std::to_string(s.shape[0]));
    }
    check(l2l_dataset_standardize_features(d.handle, static_cast<const float *>(m.ptr),
                                           static_cast<const float *>(s.ptr), m.shape[0]),
          fn);
}

std::unique_ptr<Dataset> dataset_synthetic(const std::string &family, const std::optional<std::string> &options,
                                           uint64_t seed) {
    l2l_dataset *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_dataset_synthetic(&out, family.c_str(), c_str_or_null(options), seed);
    }
    check(s, "l2l_dataset_synthetic");
    return std::make_unique<Dataset>(out);
}

// True if a*b*c (each non-negative) stays within the library's 2^31 - 1 element limit.
bool fits(int64_t a, int64_t b, int64_t c = 1) {
    const int64_t limit = INT32_MAX;
    if (a == 0 || b == 0 || c == 0) return true;
    return a <= limit / b && a * b <= limit / c;
}

// (x [tasks, k, 1], y [tasks, k, 1], amplitude [tasks], phase [tasks]).
py::tuple sine_tasks(uint64_t seed, int64_t tasks, int64_t k) {
    const char *fn = "l2l_sine_tasks";
    if (tasks < 0 || k < 0 || k > (int64_t(1) << 24) || !fits(tasks, k)) {
        // Not allocatable: the library names the problem (it checks sizes before buffers).
        check(l2l_sine_tasks(seed, tasks, k, nullptr, nullptr, nullptr, nullptr), fn);
        raise_error(L2L_ERR_INTERNAL, fn, "accepted a size it should refuse");
    }
    auto x = new_array({tasks, k, 1}, Element::float32);
    auto y = new_array({tasks, k, 1}, Element::float32);
    auto amplitude = new_array({tasks}, Element::float32);
    auto phase = new_array({tasks}, Element::float32);
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_sine_tasks(seed, tasks, k, static_cast<float *>(x.second.ptr), static_cast<float *>(y.second.ptr),
                           static_cast<float *>(amplitude.second.ptr), static_cast<float *>(phase.second.ptr));
    }
    check(s, fn);
    return py::make_tuple(x.first, y.first, amplitude.first, phase.first);
}

// (w [tasks, dimension, dimension], y [tasks, dimension]).
py::tuple quadratic_tasks(uint64_t seed, int64_t tasks, int64_t dimension, const std::optional<std::string> &options) {
    const char *fn = "l2l_quadratic_tasks";
    if (tasks < 0 || dimension < 1 || dimension > 16384 || !fits(tasks, dimension, dimension)) {
        check(l2l_quadratic_tasks(seed, tasks, dimension, c_str_or_null(options), nullptr, nullptr), fn);
        raise_error(L2L_ERR_INTERNAL, fn, "accepted a size it should refuse");
    }
    auto w = new_array({tasks, dimension, dimension}, Element::float32);
    auto y = new_array({tasks, dimension}, Element::float32);
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_quadratic_tasks(seed, tasks, dimension, c_str_or_null(options), static_cast<float *>(w.second.ptr),
                                static_cast<float *>(y.second.ptr));
    }
    check(s, fn);
    return py::make_tuple(w.first, y.first);
}

// ---------------------------------------------------------------------------------
// Learners
// ---------------------------------------------------------------------------------

std::unique_ptr<Learner> learner_create(const std::string &kind, const std::optional<std::string> &options,
                                        uint64_t seed) {
    l2l_learner *out = nullptr;
    check(l2l_learner_create(&out, kind.c_str(), c_str_or_null(options), seed), "l2l_learner_create");
    return std::make_unique<Learner>(out);
}

// (name, kind, shape, offset, count) of parameter tensor `index`.
py::tuple learner_param_info(Learner &l, int64_t index) {
    InUse use("l2l_learner_param_info", {&l.busy});
    l2l_param_info info{};
    check(l2l_learner_param_info(l.handle, index, &info), "l2l_learner_param_info");
    info.name[L2L_MAX_NAME - 1] = '\0';
    int32_t rank = info.rank < 0 ? 0 : (info.rank > L2L_MAX_RANK ? L2L_MAX_RANK : info.rank);
    py::tuple shape(rank);
    for (int32_t i = 0; i < rank; ++i) shape[i] = py::int_(info.shape[i]);
    return py::make_tuple(py::str(info.name), info.kind, shape, info.offset, info.count);
}

py::object learner_get_params(Learner &l) {
    const char *fn = "l2l_learner_get_params";
    InUse use(fn, {&l.busy});
    int64_t n = std::get<0>(l.info());
    auto out = new_array({n}, Element::float32);
    int64_t count = 0;
    check(l2l_learner_get_params(l.handle, static_cast<float *>(out.second.ptr), n, &count), fn);
    return out.first;
}

void learner_set_params(Learner &l, py::handle values) {
    const char *fn = "l2l_learner_set_params";
    InUse use(fn, {&l.busy});
    py::buffer_info v = request_array(values, fn, "values", Element::float32, 1);
    check(l2l_learner_set_params(l.handle, static_cast<const float *>(v.ptr), v.shape[0]), fn);
}

float learner_loss_grad(Learner &l, py::handle inputs, py::handle labels) {
    const char *fn = "l2l_learner_loss_grad";
    InUse use(fn, {&l.busy});
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    py::buffer_info y = request_array(labels, fn, "labels", Element::int32, 1);
    if (y.shape[0] != x.shape[0]) {
        raise_error(L2L_ERR_SHAPE, fn,
                    "inputs have " + std::to_string(x.shape[0]) + " rows but there are " +
                        std::to_string(y.shape[0]) + " labels");
    }
    float loss = 0;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_learner_loss_grad(l.handle, static_cast<const float *>(x.ptr), static_cast<const int32_t *>(y.ptr),
                                  x.shape[0], x.shape[1], &loss);
    }
    check(s, fn);
    return loss;
}

py::object learner_get_grads(Learner &l) {
    const char *fn = "l2l_learner_get_grads";
    InUse use(fn, {&l.busy});
    int64_t n = std::get<0>(l.info());
    auto out = new_array({n}, Element::float32);
    int64_t count = 0;
    check(l2l_learner_get_grads(l.handle, static_cast<float *>(out.second.ptr), n, &count), fn);
    return out.first;
}

py::object learner_forward(Learner &l, py::handle inputs) {
    const char *fn = "l2l_learner_forward";
    InUse use(fn, {&l.busy});
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    int64_t classes = std::get<3>(l.info());
    auto out = new_array({x.shape[0], classes}, Element::float32);
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_learner_forward(l.handle, static_cast<const float *>(x.ptr), x.shape[0], x.shape[1],
                                static_cast<float *>(out.second.ptr), x.shape[0] * classes);
    }
    check(s, fn);
    return out.first;
}

py::tuple learner_evaluate(Learner &l, Dataset &d) {
    const char *fn = "l2l_learner_evaluate";
    InUse use(fn, {&l.busy, &d.busy});
    float loss = 0, accuracy = 0;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_learner_evaluate(l.handle, d.handle, &loss, &accuracy);
    }
    check(s, fn);
    return py::make_tuple(loss, accuracy);
}

// ---------------------------------------------------------------------------------
// Optimisers and training
// ---------------------------------------------------------------------------------

std::unique_ptr<Optimizer> optimizer_create(const std::string &kind, const std::optional<std::string> &options) {
    l2l_optimizer *out = nullptr;
    check(l2l_optimizer_create(&out, kind.c_str(), c_str_or_null(options)), "l2l_optimizer_create");
    return std::make_unique<Optimizer>(out);
}

void optimizer_step(Optimizer &o, Learner &l) {
    const char *fn = "l2l_optimizer_step";
    InUse use(fn, {&o.busy, &l.busy});
    check(l2l_optimizer_step(o.handle, l.handle), fn);
}

// A new handle with the same optimiser and no state (l2l_optimizer_fork).
std::unique_ptr<Optimizer> optimizer_fork(Optimizer &o) {
    l2l_optimizer *out = nullptr;
    check(l2l_optimizer_fork(&out, o.handle), "l2l_optimizer_fork");
    return std::make_unique<Optimizer>(out);
}

// l2l_optimizer_update on float32 arrays: `params` (writable, updated in place), `grads` of
// the same shapes, and `inputs` (None or a 2-d float32 batch).
void optimizer_update(Optimizer &o, const std::vector<py::object> &params, const std::vector<py::object> &grads,
                      py::object inputs) {
    const char *fn = "l2l_optimizer_update";
    InUse use(fn, {&o.busy});
    if (params.size() != grads.size()) {
        raise_error(L2L_ERR_SHAPE, fn, std::to_string(params.size()) + " parameter arrays but " +
                                           std::to_string(grads.size()) + " gradient arrays");
    }
    std::vector<py::buffer_info> pb, gb;
    std::vector<float *> pp;
    std::vector<const float *> gp;
    std::vector<int64_t> ranks, dims;
    for (size_t k = 0; k < params.size(); k++) {
        py::ssize_t ndim = py::reinterpret_borrow<py::buffer>(params[k]).request().ndim;
        pb.push_back(request_array(params[k], fn, "a parameter array", Element::float32, ndim, true));
        gb.push_back(request_array(grads[k], fn, "a gradient array", Element::float32, ndim));
        if (gb.back().shape != pb.back().shape) raise_error(L2L_ERR_SHAPE, fn, "a gradient's shape differs from its parameter's");
        ranks.push_back(ndim);
        for (auto d : pb.back().shape) dims.push_back(static_cast<int64_t>(d));
        pp.push_back(static_cast<float *>(pb.back().ptr));
        gp.push_back(static_cast<const float *>(gb.back().ptr));
    }
    std::optional<py::buffer_info> ib;
    if (!inputs.is_none()) ib.emplace(request_array(inputs, fn, "the input batch", Element::float32, 2));
    check(l2l_optimizer_update(o.handle, static_cast<int64_t>(params.size()), ranks.data(), dims.data(), pp.data(),
                               gp.data(), ib ? static_cast<const float *>(ib->ptr) : nullptr,
                               ib ? ib->shape[0] : 0, ib ? ib->shape[1] : 0),
          fn);
}

// l2l_optimizer_parameter_shapes: JSON text ("null" for optimisers that take any shapes).
std::string optimizer_parameter_shapes(Optimizer &o) {
    const char *fn = "l2l_optimizer_parameter_shapes";
    int64_t length = 0;
    check(l2l_optimizer_parameter_shapes(o.handle, nullptr, 0, &length), fn);
    std::string text(static_cast<size_t>(length), '\0');
    check(l2l_optimizer_parameter_shapes(o.handle, text.data(), length, &length), fn);
    text.resize(static_cast<size_t>(length - 1));
    return text;
}

// l2l_optimizer_get_state: (float32 values, step count).
py::tuple optimizer_get_state(Optimizer &o) {
    const char *fn = "l2l_optimizer_get_state";
    InUse use(fn, {&o.busy});
    int64_t n = 0, step = 0;
    check(l2l_optimizer_get_state(o.handle, nullptr, 0, &n, &step), fn);
    auto out = new_array({n}, Element::float32);
    if (n > 0) check(l2l_optimizer_get_state(o.handle, static_cast<float *>(out.second.ptr), n, &n, &step), fn);
    return py::make_tuple(out.first, step);
}

// l2l_optimizer_set_state for parameters of `shapes` from float32 `values`.
void optimizer_set_state(Optimizer &o, const std::vector<std::vector<int64_t>> &shapes, py::handle values, int64_t step) {
    const char *fn = "l2l_optimizer_set_state";
    InUse use(fn, {&o.busy});
    py::buffer_info b = request_array(values, fn, "values", Element::float32, 1);
    std::vector<int64_t> ranks, dims;
    for (const auto &shape : shapes) {
        ranks.push_back(static_cast<int64_t>(shape.size()));
        dims.insert(dims.end(), shape.begin(), shape.end());
    }
    check(l2l_optimizer_set_state(o.handle, static_cast<int64_t>(shapes.size()), ranks.data(), dims.data(),
                                  static_cast<const float *>(b.ptr), b.shape[0], step),
          fn);
}

void optimizer_reset(Optimizer &o) {
    InUse use("l2l_optimizer_reset", {&o.busy});
    check(l2l_optimizer_reset(o.handle), "l2l_optimizer_reset");
}

// What the progress trampoline needs: the Python callable (or None) and the first Python
// exception raised while l2l_train ran (by the callable, or KeyboardInterrupt from a signal).
struct Progress {
    py::object callback;
    std::optional<py::error_already_set> error;
};

// Calls the Python callable of a progress callback with `args` under the GIL: a truthy
// result cancels, and pending signals are checked so Ctrl-C cancels the run. No C++
// exception leaves it (they would unwind through Swift frames); a Python exception is
// kept in `p->error` and cancels.
template <typename... Args>
int call_progress(Progress *p, Args... args) {
    py::gil_scoped_acquire gil;
    try {
        if (!p->callback.is_none()) {
            py::object result = p->callback(args...);
            int truth = PyObject_IsTrue(result.ptr());
            if (truth < 0) throw py::error_already_set();
            if (truth) return 1;
        }
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        return 0;
    } catch (py::error_already_set &e) {
        p->error.emplace(std::move(e));
    } catch (const std::exception &e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
        p->error.emplace();
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception in the progress callback");
        p->error.emplace();
    }
    return 1;
}

// The l2l_progress_fn handed to l2l_train: runs on the calling thread with the GIL released
// by train(); the Python callable receives (step, total, loss).
int progress_trampoline(void *user, int64_t step, int64_t total, float loss) {
    return call_progress(static_cast<Progress *>(user), step, total, loss);
}

// Calls `run(&progress)` (a long l2l call) without the GIL, with `callback` (a callable or
// None) behind `progress`: a Python exception raised in the callback (or by Ctrl-C) cancels
// the call and is re-raised here; otherwise the status is checked.
template <typename Run>
void run_with_progress(const char *fn, py::object callback, Run run) {
    if (!callback.is_none() && !PyCallable_Check(callback.ptr())) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "progress must be callable or None");
    }
    Progress progress{std::move(callback), std::nullopt};
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = run(&progress);
    }
    if (progress.error) throw *progress.error;
    check(s, fn);
}

// Runs l2l_train without the GIL. `losses` is None or a writable float32 array of at
// least `steps` elements that receives each step's loss. A Python exception raised in
// the callback (or by Ctrl-C) cancels the run and is re-raised here; a truthy callback
// result raises l2l.CancelledError. Either way the steps taken are kept.
void train(Learner &l, Optimizer &o, Batches &b, int64_t steps, py::handle losses, py::object callback) {
    const char *fn = "l2l_train";
    InUse use(fn, {&l.busy, &o.busy, &b.busy});
    float *losses_ptr = nullptr;
    std::optional<py::buffer_info> lb;
    if (!losses.is_none()) {
        lb.emplace(request_array(losses, fn, "losses", Element::float32, 1, true));
        if (lb->shape[0] < steps) {
            raise_error(L2L_ERR_BUFFER_TOO_SMALL, fn,
                        "losses holds " + std::to_string(lb->shape[0]) + " floats, " + std::to_string(steps) +
                            " steps need as many");
        }
        losses_ptr = static_cast<float *>(lb->ptr);
    }
    run_with_progress(fn, std::move(callback), [&](Progress *progress) {
        return l2l_train(l.handle, o.handle, b.handle, steps, losses_ptr, progress_trampoline, progress);
    });
}

// ---------------------------------------------------------------------------------
// Learned optimisers
// ---------------------------------------------------------------------------------

std::unique_ptr<Learned> learned_create(const std::string &kind, const std::optional<std::string> &options,
                                        Learner *learner, uint64_t seed) {
    const char *fn = "l2l_learned_create";
    std::optional<InUse> use;
    if (learner != nullptr) use.emplace(fn, std::initializer_list<bool *>{&learner->busy});
    l2l_learned *out = nullptr;
    check(l2l_learned_create(&out, kind.c_str(), c_str_or_null(options), learner ? learner->handle : nullptr, seed),
          fn);
    return std::make_unique<Learned>(out);
}

std::unique_ptr<Learned> learned_load(const std::string &path) {
    return load_file<Learned>(l2l_learned_load, path, "l2l_learned_load");
}

py::tuple learned_info(Learned &h) {
    InUse use("l2l_learned_info", {&h.busy});
    int64_t params = 0, tensors = 0;
    check(l2l_learned_info(h.handle, &params, &tensors), "l2l_learned_info");
    return py::make_tuple(params, tensors);
}

// (kind, options text); the buffers grow until both fit.
py::tuple learned_describe(Learned &h) {
    const char *fn = "l2l_learned_describe";
    InUse use(fn, {&h.busy});
    for (int64_t capacity = 256;; capacity *= 4) {
        std::vector<char> kind(static_cast<size_t>(capacity)), options(static_cast<size_t>(capacity));
        l2l_status s = l2l_learned_describe(h.handle, kind.data(), capacity, options.data(), capacity);
        if (s == L2L_ERR_BUFFER_TOO_SMALL && capacity < (int64_t(1) << 24)) continue;
        check(s, fn);
        return py::make_tuple(py::str(kind.data()), py::str(options.data()));
    }
}

py::object learned_get_meta(Learned &h) {
    const char *fn = "l2l_learned_get_meta";
    InUse use(fn, {&h.busy});
    int64_t n = h.meta_count();
    auto out = new_array({n}, Element::float32);
    int64_t count = 0;
    check(l2l_learned_get_meta(h.handle, static_cast<float *>(out.second.ptr), n, &count), fn);
    return out.first;
}

void learned_set_meta(Learned &h, py::handle values) {
    const char *fn = "l2l_learned_set_meta";
    InUse use(fn, {&h.busy});
    py::buffer_info v = request_array(values, fn, "values", Element::float32, 1);
    check(l2l_learned_set_meta(h.handle, static_cast<const float *>(v.ptr), v.shape[0]), fn);
}

void learned_save(Learned &h, const std::string &path) {
    save_file(l2l_learned_save, h, path, "l2l_learned_save");
}

std::unique_ptr<Optimizer> optimizer_create_learned(Learned &h, const std::optional<std::string> &options) {
    const char *fn = "l2l_optimizer_create_learned";
    InUse use(fn, {&h.busy});
    l2l_optimizer *out = nullptr;
    check(l2l_optimizer_create_learned(&out, h.handle, c_str_or_null(options)), fn);
    return std::make_unique<Optimizer>(out);
}

// ---------------------------------------------------------------------------------
// Meta-training
// ---------------------------------------------------------------------------------

// The tasks of a meta-trainer as C arrays, with every handle marked in use meanwhile.
struct TaskArrays {
    std::vector<const l2l_learner *> learners;
    std::vector<const l2l_dataset *> datasets;
    std::vector<bool *> flags;
};

TaskArrays task_arrays(const char *fn, const std::vector<Learner *> &learners, const std::vector<Dataset *> &datasets) {
    if (learners.size() != datasets.size()) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn,
                    std::to_string(learners.size()) + " learners but " + std::to_string(datasets.size()) +
                        " data sets; give one of each per task");
    }
    TaskArrays t;
    for (size_t i = 0; i < learners.size(); ++i) {
        if (learners[i] == nullptr || datasets[i] == nullptr) {
            raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "task " + std::to_string(i) + " has no learner or data set");
        }
        t.learners.push_back(learners[i]->handle);
        t.datasets.push_back(datasets[i]->handle);
    }
    return t;
}

// Marks every distinct flag of `flags` in use (a learner may serve several tasks).
std::vector<bool *> distinct(std::vector<bool *> flags) {
    std::vector<bool *> out;
    for (bool *f : flags) {
        bool seen = false;
        for (bool *g : out) seen = seen || g == f;
        if (!seen) out.push_back(f);
    }
    return out;
}


std::vector<bool *> task_flags(Learned &h, const std::vector<Learner *> &learners, const std::vector<Dataset *> &datasets) {
    std::vector<bool *> flags{&h.busy};
    for (Learner *l : learners)
        if (l != nullptr) flags.push_back(&l->busy);
    for (Dataset *d : datasets)
        if (d != nullptr) flags.push_back(&d->busy);
    return distinct(flags);
}

std::unique_ptr<MetaTrainer> meta_trainer_create(Learned &h, const std::vector<Learner *> &learners,
                                                 const std::vector<Dataset *> &datasets,
                                                 const std::optional<std::string> &options) {
    const char *fn = "l2l_meta_trainer_create";
    InUse use(fn, task_flags(h, learners, datasets));
    TaskArrays t = task_arrays(fn, learners, datasets);
    l2l_meta_trainer *out = nullptr;
    check(l2l_meta_trainer_create(&out, h.handle, t.learners.data(), t.datasets.data(),
                                  static_cast<int64_t>(t.learners.size()), c_str_or_null(options)),
          fn);
    return std::make_unique<MetaTrainer>(out);
}

std::unique_ptr<MetaTrainer> meta_trainer_resume(const std::string &path, Learned &h, const std::vector<Learner *> &learners,
                                                 const std::vector<Dataset *> &datasets,
                                                 const std::optional<std::string> &options) {
    const char *fn = "l2l_meta_trainer_resume";
    InUse use(fn, task_flags(h, learners, datasets));
    TaskArrays t = task_arrays(fn, learners, datasets);
    l2l_meta_trainer *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_meta_trainer_resume(&out, path.c_str(), h.handle, t.learners.data(), t.datasets.data(),
                                    static_cast<int64_t>(t.learners.size()), c_str_or_null(options));
    }
    check(s, fn);
    return std::make_unique<MetaTrainer>(out);
}

// The l2l_meta_progress_fn handed to l2l_meta_trainer_run: the Python callable receives
// (trial, step, meta_loss).
int meta_progress_trampoline(void *user, int64_t trial, int64_t step, float meta_loss) {
    return call_progress(static_cast<Progress *>(user), trial, step, meta_loss);
}

// Runs l2l_meta_trainer_run without the GIL; exceptions as train().
void raise_task_error(MetaTrainer &trainer);

void meta_trainer_run(MetaTrainer &t, int64_t trials, py::object callback) {
    const char *fn = "l2l_meta_trainer_run";
    InUse use(fn, {&t.busy});
    try {
        run_with_progress(fn, std::move(callback), [&](Progress *progress) {
            return l2l_meta_trainer_run(t.handle, trials, meta_progress_trampoline, progress);
        });
    } catch (...) {
        raise_task_error(t);  // a callback task's own exception, if one stopped the run
        throw;
    }
}

py::tuple meta_trainer_info(MetaTrainer &t) {
    InUse use("l2l_meta_trainer_info", {&t.busy});
    int64_t trials = 0, steps = 0, unrolls = 0;
    check(l2l_meta_trainer_info(t.handle, &trials, &steps, &unrolls), "l2l_meta_trainer_info");
    return py::make_tuple(trials, steps, unrolls);
}

py::object meta_trainer_history(MetaTrainer &t) {
    const char *fn = "l2l_meta_trainer_history";
    InUse use(fn, {&t.busy});
    int64_t n = 0;
    check(l2l_meta_trainer_history(t.handle, nullptr, 0, &n), fn);
    auto out = new_array({n}, Element::float32);
    if (n > 0) check(l2l_meta_trainer_history(t.handle, static_cast<float *>(out.second.ptr), n, &n), fn);
    return out.first;
}

// A list of (kind code, trial or iteration, step) from an l2l_*_events function of `t`.
template <typename Trainer, typename Events>
py::list events_list(Trainer &t, const char *fn, Events events) {
    InUse use(fn, {&t.busy});
    int64_t n = 0;
    check(events(t.handle, nullptr, nullptr, nullptr, 0, &n), fn);
    std::vector<int32_t> kinds(static_cast<size_t>(n));
    std::vector<int64_t> indices(static_cast<size_t>(n)), steps(static_cast<size_t>(n));
    if (n > 0) check(events(t.handle, kinds.data(), indices.data(), steps.data(), n, &n), fn);
    py::list out;
    for (size_t i = 0; i < kinds.size(); ++i) out.append(py::make_tuple(kinds[i], indices[i], steps[i]));
    return out;
}

py::list meta_trainer_events(MetaTrainer &t) { return events_list(t, "l2l_meta_trainer_events", l2l_meta_trainer_events); }

// The meta-loss of the trainer's current phi on `instances` fresh learners drawn from `seed`.
float meta_trainer_evaluate(MetaTrainer &t, int64_t instances, uint64_t seed) {
    const char *fn = "l2l_meta_trainer_evaluate";
    InUse use(fn, {&t.busy});
    float meta_loss = 0;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_meta_trainer_evaluate(t.handle, instances, seed, &meta_loss);
    }
    if (s != L2L_OK) raise_task_error(t);
    check(s, fn);
    return meta_loss;
}

void meta_trainer_save_checkpoint(MetaTrainer &t, const std::string &path) {
    save_file(l2l_meta_trainer_save_checkpoint, t, path, "l2l_meta_trainer_save_checkpoint");
}

void meta_trainer_get_learned(MetaTrainer &t, Learned &h) {
    const char *fn = "l2l_meta_trainer_get_learned";
    InUse use(fn, {&t.busy, &h.busy});
    check(l2l_meta_trainer_get_learned(t.handle, h.handle), fn);
}

// One meta-iteration in two halves (l2l.mpi): rows of float32 out and in.

// (meta_batch, phi_count, trials, iterations_per_trial).
py::tuple meta_trainer_sizes(MetaTrainer &t) {
    InUse use("l2l_meta_trainer_sizes", {&t.busy});
    int64_t batch = 0, phi = 0, trials = 0, per_trial = 0;
    check(l2l_meta_trainer_sizes(t.handle, &batch, &phi, &trials, &per_trial), "l2l_meta_trainer_sizes");
    return py::make_tuple(batch, phi, trials, per_trial);
}

py::object meta_trainer_get_phi(MetaTrainer &t) {
    const char *fn = "l2l_meta_trainer_get_phi";
    InUse use(fn, {&t.busy});
    int64_t n = 0;
    check(l2l_meta_trainer_get_phi(t.handle, nullptr, 0, &n), fn);
    auto out = new_array({n}, Element::float32);
    check(l2l_meta_trainer_get_phi(t.handle, static_cast<float *>(out.second.ptr), n, &n), fn);
    return out.first;
}

void meta_trainer_set_phi(MetaTrainer &t, py::object values) {
    const char *fn = "l2l_meta_trainer_set_phi";
    InUse use(fn, {&t.busy});
    py::buffer_info v = request_array(values, fn, "phi", Element::float32, 1);
    check(l2l_meta_trainer_set_phi(t.handle, static_cast<const float *>(v.ptr), v.shape[0]), fn);
}

// (gradients [k, phi_count], summaries [k, L2L_META_SUMMARY_SIZE]) of members `members`.
py::tuple meta_trainer_estimate(MetaTrainer &t, const std::vector<int64_t> &members) {
    const char *fn = "l2l_meta_trainer_estimate";
    InUse use(fn, {&t.busy});
    int64_t phi = 0;
    check(l2l_meta_trainer_sizes(t.handle, nullptr, &phi, nullptr, nullptr), fn);
    auto k = static_cast<py::ssize_t>(members.size());
    auto grads = new_array({k, phi}, Element::float32);
    auto summaries = new_array({k, L2L_META_SUMMARY_SIZE}, Element::float32);
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_meta_trainer_estimate(t.handle, members.data(), k, static_cast<float *>(grads.second.ptr), k * phi,
                                      static_cast<float *>(summaries.second.ptr), k * L2L_META_SUMMARY_SIZE);
    }
    if (s != L2L_OK) raise_task_error(t);
    check(s, fn);
    return py::make_tuple(grads.first, summaries.first);
}

py::object meta_trainer_combine(MetaTrainer &t, py::object gradients) {
    const char *fn = "l2l_meta_trainer_combine";
    InUse use(fn, {&t.busy});
    py::buffer_info g = request_array(gradients, fn, "gradients", Element::float32, 2);
    auto out = new_array({g.shape[1]}, Element::float32);
    check(l2l_meta_trainer_combine(t.handle, static_cast<const float *>(g.ptr), g.shape[0] * g.shape[1],
                                   static_cast<float *>(out.second.ptr), g.shape[1]), fn);
    return out.first;
}

void meta_trainer_apply(MetaTrainer &t, py::object summaries, py::object gradient) {
    const char *fn = "l2l_meta_trainer_apply";
    InUse use(fn, {&t.busy});
    py::buffer_info s = request_array(summaries, fn, "summaries", Element::float32, 2);
    if (s.shape[1] != L2L_META_SUMMARY_SIZE) {
        raise_error(L2L_ERR_SHAPE, fn, "summaries must have " + std::to_string(L2L_META_SUMMARY_SIZE) + " columns, got " +
                                           std::to_string(s.shape[1]));
    }
    std::optional<py::buffer_info> g;
    if (!gradient.is_none()) g = request_array(gradient, fn, "gradient", Element::float32, 1);
    check(l2l_meta_trainer_apply(t.handle, static_cast<const float *>(s.ptr), s.shape[0] * s.shape[1],
                                 g ? static_cast<const float *>(g->ptr) : nullptr, g ? g->shape[0] : 0), fn);
}

// ---------------------------------------------------------------------------------
// Meta-testing
// ---------------------------------------------------------------------------------

std::unique_ptr<MetaTest> meta_test_run(Learner &l, Optimizer &o, Dataset &train_set, Dataset &test_set,
                                        const std::optional<std::string> &options, py::object callback) {
    const char *fn = "l2l_meta_test_run";
    InUse use(fn, distinct({&l.busy, &o.busy, &train_set.busy, &test_set.busy}));
    if (!callback.is_none() && !PyCallable_Check(callback.ptr())) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "progress must be callable or None");
    }
    Progress progress{std::move(callback), std::nullopt};
    l2l_meta_test *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_meta_test_run(&out, l.handle, o.handle, train_set.handle, test_set.handle, c_str_or_null(options),
                              progress_trampoline, &progress);
    }
    if (s == L2L_OK) {
        auto result = std::make_unique<MetaTest>(out);  // owned before anything can throw
        if (progress.error) throw *progress.error;
        return result;
    }
    if (progress.error) throw *progress.error;
    check(s, fn);
    raise_error(L2L_ERR_INTERNAL, fn, "no result and no error");
}

// (learners, steps, evaluations, tensors, sparsity, seconds_per_step).
py::tuple meta_test_info(MetaTest &r) {
    InUse use("l2l_meta_test_info", {&r.busy});
    int64_t k = 0, t = 0, e = 0, tensors = 0;
    double sparsity = 0, seconds = 0;
    check(l2l_meta_test_info(r.handle, &k, &t, &e, &tensors, &sparsity, &seconds), "l2l_meta_test_info");
    return py::make_tuple(k, t, e, tensors, sparsity, seconds);
}

// (training_loss [K, T], test_loss [K, E], test_accuracy [K, E], evaluation_steps int64 [E]).
py::tuple meta_test_curves(MetaTest &r) {
    const char *fn = "l2l_meta_test_curves";
    InUse use(fn, {&r.busy});
    int64_t k = 0, t = 0, e = 0;
    check(l2l_meta_test_info(r.handle, &k, &t, &e, nullptr, nullptr, nullptr), "l2l_meta_test_info");
    auto loss = new_array({k, t}, Element::float32);
    auto test_loss = new_array({k, e}, Element::float32);
    auto accuracy = new_array({k, e}, Element::float32);
    auto steps = new_array({e}, Element::int64);
    check(l2l_meta_test_curves(r.handle, static_cast<float *>(loss.second.ptr), static_cast<float *>(test_loss.second.ptr),
                               static_cast<float *>(accuracy.second.ptr), static_cast<int64_t *>(steps.second.ptr)),
          fn);
    return py::make_tuple(loss.first, test_loss.first, accuracy.first, steps.first);
}

// (zeros float64 [tensors], sizes int64 [tensors]).
py::tuple meta_test_zero_weights(MetaTest &r) {
    const char *fn = "l2l_meta_test_zero_weights";
    InUse use(fn, {&r.busy});
    int64_t tensors = 0;
    check(l2l_meta_test_info(r.handle, nullptr, nullptr, nullptr, &tensors, nullptr, nullptr), "l2l_meta_test_info");
    auto zeros = new_array({tensors}, Element::float64);
    auto sizes = new_array({tensors}, Element::int64);
    check(l2l_meta_test_zero_weights(r.handle, static_cast<double *>(zeros.second.ptr),
                                     static_cast<int64_t *>(sizes.second.ptr), tensors),
          fn);
    return py::make_tuple(zeros.first, sizes.first);
}

// None, or (quantiles float32 [K, E, 5], masked float64 [K, E], saturated float64 [K, E]).
py::object meta_test_rates(MetaTest &r) {
    const char *fn = "l2l_meta_test_rates";
    InUse use(fn, {&r.busy});
    int64_t k = 0, e = 0;
    check(l2l_meta_test_info(r.handle, &k, nullptr, &e, nullptr, nullptr, nullptr), "l2l_meta_test_info");
    int32_t available = 0;
    check(l2l_meta_test_rates(r.handle, &available, nullptr, nullptr, nullptr, 0), fn);
    if (!available) return py::none();
    auto quantiles = new_array({k, e, 5}, Element::float32);
    auto masked = new_array({k, e}, Element::float64);
    auto saturated = new_array({k, e}, Element::float64);
    check(l2l_meta_test_rates(r.handle, &available, static_cast<float *>(quantiles.second.ptr),
                              static_cast<double *>(masked.second.ptr), static_cast<double *>(saturated.second.ptr), k * e),
          fn);
    return py::make_tuple(quantiles.first, masked.first, saturated.first);
}

void meta_test_save(MetaTest &r, const std::string &path, const std::string &format) {
    const char *fn = "l2l_meta_test_save";
    InUse use(fn, {&r.busy});
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_meta_test_save(r.handle, path.c_str(), format.c_str());
    }
    check(s, fn);
}

// ---------------------------------------------------------------------------------
// MLHF
// ---------------------------------------------------------------------------------

std::unique_ptr<MLHF> mlhf_create(const std::optional<std::string> &options, uint64_t seed) {
    l2l_mlhf *out = nullptr;
    check(l2l_mlhf_create(&out, c_str_or_null(options), seed), "l2l_mlhf_create");
    return std::make_unique<MLHF>(out);
}

std::unique_ptr<MLHF> mlhf_load(const std::string &path) {
    return load_file<MLHF>(l2l_mlhf_load, path, "l2l_mlhf_load");
}

py::tuple mlhf_info(MLHF &h) {
    InUse use("l2l_mlhf_info", {&h.busy});
    int64_t params = 0, tensors = 0;
    check(l2l_mlhf_info(h.handle, &params, &tensors), "l2l_mlhf_info");
    return py::make_tuple(params, tensors);
}

// The options text; the buffer grows until it fits.
std::string mlhf_describe(MLHF &h) {
    const char *fn = "l2l_mlhf_describe";
    InUse use(fn, {&h.busy});
    for (int64_t capacity = 512;; capacity *= 4) {
        std::vector<char> options(static_cast<size_t>(capacity));
        l2l_status s = l2l_mlhf_describe(h.handle, options.data(), capacity);
        if (s == L2L_ERR_BUFFER_TOO_SMALL && capacity < (int64_t(1) << 24)) continue;
        check(s, fn);
        return std::string(options.data());
    }
}

py::object mlhf_get_meta(MLHF &h) {
    const char *fn = "l2l_mlhf_get_meta";
    InUse use(fn, {&h.busy});
    int64_t n = h.meta_count();
    auto out = new_array({n}, Element::float32);
    int64_t count = 0;
    check(l2l_mlhf_get_meta(h.handle, static_cast<float *>(out.second.ptr), n, &count), fn);
    return out.first;
}

void mlhf_set_meta(MLHF &h, py::handle values) {
    const char *fn = "l2l_mlhf_set_meta";
    InUse use(fn, {&h.busy});
    py::buffer_info v = request_array(values, fn, "values", Element::float32, 1);
    check(l2l_mlhf_set_meta(h.handle, static_cast<const float *>(v.ptr), v.shape[0]), fn);
}

void mlhf_save(MLHF &h, const std::string &path) {
    save_file(l2l_mlhf_save, h, path, "l2l_mlhf_save");
}

std::unique_ptr<Optimizer> optimizer_create_mlhf(MLHF &h, Learner &l, const std::optional<std::string> &options) {
    const char *fn = "l2l_optimizer_create_mlhf";
    InUse use(fn, {&h.busy, &l.busy});
    l2l_optimizer *out = nullptr;
    check(l2l_optimizer_create_mlhf(&out, h.handle, l.handle, c_str_or_null(options)), fn);
    return std::make_unique<Optimizer>(out);
}

std::unique_ptr<MLHFTrainer> mlhf_trainer_create(MLHF &h, Learner &l, Dataset &d,
                                                 const std::optional<std::string> &options) {
    const char *fn = "l2l_mlhf_trainer_create";
    InUse use(fn, {&h.busy, &l.busy, &d.busy});
    l2l_mlhf_trainer *out = nullptr;
    check(l2l_mlhf_trainer_create(&out, h.handle, l.handle, d.handle, c_str_or_null(options)), fn);
    return std::make_unique<MLHFTrainer>(out);
}

py::tuple mlhf_record_tuple(const l2l_mlhf_record &r) {
    return py::make_tuple(r.precondition_loss, r.damping_loss, r.residual_norm, r.training_loss, r.damping);
}

// The l2l_mlhf_progress_fn handed to l2l_mlhf_trainer_run: the Python callable receives
// (iteration, precondition_loss, damping_loss, residual_norm, training_loss, damping).
int mlhf_progress_trampoline(void *user, int64_t iteration, const l2l_mlhf_record *r) {
    return call_progress(static_cast<Progress *>(user), iteration, r->precondition_loss, r->damping_loss,
                         r->residual_norm, r->training_loss, r->damping);
}

// Runs l2l_mlhf_trainer_run without the GIL; exceptions as train().
void mlhf_trainer_run(MLHFTrainer &t, int64_t iterations, py::object callback) {
    const char *fn = "l2l_mlhf_trainer_run";
    InUse use(fn, {&t.busy});
    run_with_progress(fn, std::move(callback), [&](Progress *progress) {
        return l2l_mlhf_trainer_run(t.handle, iterations, mlhf_progress_trampoline, progress);
    });
}

py::tuple mlhf_trainer_info(MLHFTrainer &t) {
    InUse use("l2l_mlhf_trainer_info", {&t.busy});
    int64_t done = 0, configured = 0, events = 0;
    check(l2l_mlhf_trainer_info(t.handle, &done, &configured, &events), "l2l_mlhf_trainer_info");
    return py::make_tuple(done, configured, events);
}

// (precondition_loss, damping_loss, residual_norm, training_loss, damping), float32 [n] each.
py::tuple mlhf_trainer_history(MLHFTrainer &t) {
    const char *fn = "l2l_mlhf_trainer_history";
    InUse use(fn, {&t.busy});
    int64_t n = 0;
    check(l2l_mlhf_trainer_history(t.handle, nullptr, nullptr, nullptr, nullptr, nullptr, 0, &n), fn);
    auto lp = new_array({n}, Element::float32), ls = new_array({n}, Element::float32);
    auto residual = new_array({n}, Element::float32), loss = new_array({n}, Element::float32);
    auto damping = new_array({n}, Element::float32);
    if (n > 0) {
        check(l2l_mlhf_trainer_history(t.handle, static_cast<float *>(lp.second.ptr), static_cast<float *>(ls.second.ptr),
                                       static_cast<float *>(residual.second.ptr), static_cast<float *>(loss.second.ptr),
                                       static_cast<float *>(damping.second.ptr), n, &n),
              fn);
    }
    return py::make_tuple(lp.first, ls.first, residual.first, loss.first, damping.first);
}

py::list mlhf_trainer_events(MLHFTrainer &t) { return events_list(t, "l2l_mlhf_trainer_events", l2l_mlhf_trainer_events); }

// (precondition_loss, damping_loss, residual_norm, training_loss, damping) of `mlhf`'s phi
// (None: the trainer's current phi).
py::tuple mlhf_trainer_evaluate(MLHFTrainer &t, MLHF *h, int64_t unrolls, uint64_t seed) {
    const char *fn = "l2l_mlhf_trainer_evaluate";
    std::vector<bool *> flags{&t.busy};
    if (h != nullptr) flags.push_back(&h->busy);
    InUse use(fn, flags);
    l2l_mlhf_record record{};
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_mlhf_trainer_evaluate(t.handle, h ? h->handle : nullptr, unrolls, seed, &record);
    }
    check(s, fn);
    return mlhf_record_tuple(record);
}

void mlhf_trainer_get_mlhf(MLHFTrainer &t, MLHF &h) {
    const char *fn = "l2l_mlhf_trainer_get_mlhf";
    InUse use(fn, {&t.busy, &h.busy});
    check(l2l_mlhf_trainer_get_mlhf(t.handle, h.handle), fn);
}

// ---------------------------------------------------------------------------------
// Tasks of the caller's model (l2l_task_create_callback): Python callables behind the
// C callbacks. A Python exception in a callback is kept on the task, the callback reports
// failure (the run stops with L2L_ERR_CANCELLED) and the exception is re-raised by the
// call that ran the trainer.
// ---------------------------------------------------------------------------------

struct CallbackTask : HandleObject {
    l2l_task *handle = nullptr;
    py::object init, loss_grad;
    std::vector<std::vector<py::ssize_t>> shapes;
    std::optional<py::error_already_set> error;
    CallbackTask() = default;
    CallbackTask(const CallbackTask &) = delete;
    CallbackTask &operator=(const CallbackTask &) = delete;
    ~CallbackTask() { l2l_task_free(handle); }
};

// Copies a sequence of float32 arrays of the task's shapes into the C buffers.
void copy_arrays(CallbackTask &t, py::handle sequence, const char *what, float *const *out) {
    const char *fn = "CallbackTask";
    py::sequence list = py::reinterpret_borrow<py::sequence>(sequence);
    if (static_cast<size_t>(py::len(list)) != t.shapes.size()) {
        raise_error(L2L_ERR_SHAPE, fn, std::string(what) + " must hold " + std::to_string(t.shapes.size()) +
                                           " arrays, got " + std::to_string(py::len(list)));
    }
    for (size_t k = 0; k < t.shapes.size(); k++) {
        py::buffer_info b = request_array(list[k], fn, what, Element::float32,
                                          static_cast<py::ssize_t>(t.shapes[k].size()));
        if (b.shape != t.shapes[k]) raise_error(L2L_ERR_SHAPE, fn, std::string(what) + ": an array has the wrong shape");
        std::memcpy(out[k], b.ptr, static_cast<size_t>(b.size) * sizeof(float));
    }
}

// Runs `body` under the GIL; any exception is kept on the task and reported as failure.
template <typename Body>
int call_task(CallbackTask *t, Body body) {
    py::gil_scoped_acquire gil;
    try {
        body();
        return 0;
    } catch (py::error_already_set &e) {
        if (!t->error) t->error.emplace(std::move(e));
    } catch (const std::exception &e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
        if (!t->error) t->error.emplace();
    }
    return 1;
}

int task_init_trampoline(void *user, uint64_t seed, float *const *parameters) {
    auto *t = static_cast<CallbackTask *>(user);
    return call_task(t, [&] { copy_arrays(*t, t->init(seed), "init's result", parameters); });
}

int task_loss_grad_trampoline(void *user, int64_t step, const float *const *parameters, float *loss,
                              float *const *gradients) {
    auto *t = static_cast<CallbackTask *>(user);
    return call_task(t, [&] {
        py::list arrays;
        for (size_t k = 0; k < t->shapes.size(); k++) {
            py::tuple dims(t->shapes[k].size());
            for (size_t i = 0; i < t->shapes[k].size(); i++) dims[i] = py::int_(t->shapes[k][i]);
            py::object a = py::module_::import("numpy").attr("empty")(dims, py::arg("dtype") = "float32");
            py::buffer_info b = request_array(a, "CallbackTask", "parameters", Element::float32,
                                              static_cast<py::ssize_t>(t->shapes[k].size()), true);
            std::memcpy(b.ptr, parameters[k], static_cast<size_t>(b.size) * sizeof(float));
            arrays.append(a);
        }
        py::tuple result = t->loss_grad(arrays, step);
        if (py::len(result) != 2) raise_error(L2L_ERR_INVALID_ARGUMENT, "CallbackTask", "loss_and_grad must return (loss, grads)");
        *loss = result[0].cast<float>();
        copy_arrays(*t, result[1], "loss_and_grad's gradients", gradients);
    });
}

std::unique_ptr<CallbackTask> task_create_callback(const std::vector<std::vector<int64_t>> &shapes, py::object init,
                                                   py::object loss_grad) {
    const char *fn = "l2l_task_create_callback";
    if (!PyCallable_Check(init.ptr()) || !PyCallable_Check(loss_grad.ptr())) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "init and loss_and_grad must be callable");
    }
    auto t = std::make_unique<CallbackTask>();
    t->init = std::move(init);
    t->loss_grad = std::move(loss_grad);
    std::vector<int64_t> ranks, dims;
    for (const auto &shape : shapes) {
        ranks.push_back(static_cast<int64_t>(shape.size()));
        t->shapes.emplace_back(shape.begin(), shape.end());
        dims.insert(dims.end(), shape.begin(), shape.end());
    }
    check(l2l_task_create_callback(&t->handle, static_cast<int64_t>(shapes.size()), ranks.data(), dims.data(),
                                   task_init_trampoline, task_loss_grad_trampoline, t.get()),
          fn);
    return t;
}

// Re-raises the first exception a callback task of `trainer` kept (and forgets it).
void raise_task_error(MetaTrainer &trainer) {
    for (auto &object : trainer.tasks) {
        auto &t = object.cast<CallbackTask &>();
        if (t.error) {
            py::error_already_set e = std::move(*t.error);
            t.error.reset();
            throw e;
        }
    }
}

std::unique_ptr<MetaTrainer> meta_trainer_from_tasks(Learned &h, const std::vector<py::object> &tasks,
                                                     const std::optional<std::string> &options) {
    const char *fn = "l2l_meta_trainer_create_from_tasks";
    std::vector<const l2l_task *> handles;
    for (const auto &object : tasks) handles.push_back(object.cast<CallbackTask &>().handle);
    l2l_meta_trainer *out = nullptr;
    check(l2l_meta_trainer_create_from_tasks(&out, h.handle, handles.data(), static_cast<int64_t>(handles.size()),
                                             c_str_or_null(options)),
          fn);
    auto trainer = std::make_unique<MetaTrainer>(out);
    trainer->tasks = tasks;
    return trainer;
}

}  // namespace

// Few-shot learning and regression: bound by bind_fewshot at the end of this file.
void bind_fewshot(py::module_ &m);
// The LSTM learner (Bosc 2016): bound by bind_lstm_learner at the end of this file.
void bind_lstm_learner(py::module_ &m);

PYBIND11_MODULE(_l2l, m) {
    m.doc() = "Private pybind11 shim over the l2l C ABI (include/l2l.h); use the l2l package instead.";

    // Exceptions: l2l.Error and one subclass per status code.
    PyObject *base = PyErr_NewExceptionWithDoc("l2l.Error", "Base class of every error raised by l2l.",
                                               PyExc_Exception, nullptr);
    if (base == nullptr) throw py::error_already_set();
    exception_types[0] = base;
    m.add_object("Error", py::handle(base));
    struct Spec {
        l2l_status status;
        const char *name;
        const char *doc;
        std::vector<PyObject *> extra_bases;
    };
    const Spec specs[] = {
        {L2L_ERR_INVALID_ARGUMENT, "InvalidArgumentError",
         "L2L_ERR_INVALID_ARGUMENT: a malformed argument, an unknown option or an out-of-range value.",
         {PyExc_ValueError}},
        {L2L_ERR_SHAPE, "ShapeError", "L2L_ERR_SHAPE: sizes or shapes that do not fit together.", {PyExc_ValueError}},
        {L2L_ERR_NON_FINITE, "NonFiniteError",
         "L2L_ERR_NON_FINITE: NaN or infinity in input that must be finite, or a diverged computation.",
         {PyExc_ArithmeticError, PyExc_ValueError}},
        {L2L_ERR_IO, "FileError", "L2L_ERR_IO: a file that cannot be opened or read.", {PyExc_OSError}},
        {L2L_ERR_FORMAT, "FormatError", "L2L_ERR_FORMAT: a file that is truncated, corrupt or of the wrong kind.",
         {PyExc_ValueError}},
        {L2L_ERR_BUFFER_TOO_SMALL, "BufferTooSmallError", "L2L_ERR_BUFFER_TOO_SMALL: an output buffer is too small.",
         {}},
        {L2L_ERR_CANCELLED, "CancelledError",
         "L2L_ERR_CANCELLED: a progress callback cancelled the call; the work done so far is kept.", {}},
        {L2L_ERR_STATE, "StateError",
         "L2L_ERR_STATE: a call out of order (e.g. an optimiser step before any gradient), or an object "
         "used by two calls at once.",
         {PyExc_RuntimeError}},
        {L2L_ERR_INTERNAL, "InternalError", "L2L_ERR_INTERNAL: a bug in l2l; please report it.", {}},
    };
    for (const Spec &spec : specs) {
        py::tuple bases(1 + spec.extra_bases.size());
        bases[0] = py::handle(base);
        for (size_t i = 0; i < spec.extra_bases.size(); ++i) bases[i + 1] = py::handle(spec.extra_bases[i]);
        std::string qualified = std::string("l2l.") + spec.name;
        PyObject *type = PyErr_NewExceptionWithDoc(qualified.c_str(), spec.doc, bases.ptr(), nullptr);
        if (type == nullptr) throw py::error_already_set();
        exception_types[spec.status] = type;  // the module keeps it alive
        m.add_object(spec.name, py::handle(type));
    }

    // Versions, status codes and parameter kinds.
    m.def("version", [] { return std::string(l2l_version()); }, "l2l_version(): the library's version string.");
    m.def("build_info", &build_info, "l2l_build_info(): what this build runs on, as key=value lines.");
    m.attr("HEADER_VERSION") = L2L_VERSION_STRING;
    m.attr("HEADER_VERSION_INFO") = py::make_tuple(L2L_VERSION_MAJOR, L2L_VERSION_MINOR, L2L_VERSION_PATCH);
    m.def("status_string", [](l2l_status s) { return std::string(l2l_status_string(s)); },
          "l2l_status_string(status): a short name for a status code.");
    m.def("last_error", [] { return std::string(l2l_last_error()); },
          "l2l_last_error(): the message of the calling thread's most recent failed call.");
    m.def("_check", &check, py::arg("status"), py::arg("function"),
          "Raises what check() raises for `status` (testing hook for the status-to-exception table).");
    py::dict statuses;
    statuses["OK"] = static_cast<int>(L2L_OK);
    statuses["ERR_INVALID_ARGUMENT"] = static_cast<int>(L2L_ERR_INVALID_ARGUMENT);
    statuses["ERR_SHAPE"] = static_cast<int>(L2L_ERR_SHAPE);
    statuses["ERR_NON_FINITE"] = static_cast<int>(L2L_ERR_NON_FINITE);
    statuses["ERR_IO"] = static_cast<int>(L2L_ERR_IO);
    statuses["ERR_FORMAT"] = static_cast<int>(L2L_ERR_FORMAT);
    statuses["ERR_BUFFER_TOO_SMALL"] = static_cast<int>(L2L_ERR_BUFFER_TOO_SMALL);
    statuses["ERR_CANCELLED"] = static_cast<int>(L2L_ERR_CANCELLED);
    statuses["ERR_STATE"] = static_cast<int>(L2L_ERR_STATE);
    statuses["ERR_INTERNAL"] = static_cast<int>(L2L_ERR_INTERNAL);
    m.attr("STATUS") = statuses;
    py::dict kinds;
    kinds["fc_weight"] = static_cast<int>(L2L_PARAM_FC_WEIGHT);
    kinds["fc_bias"] = static_cast<int>(L2L_PARAM_FC_BIAS);
    kinds["conv_kernel"] = static_cast<int>(L2L_PARAM_CONV_KERNEL);
    kinds["conv_bias"] = static_cast<int>(L2L_PARAM_CONV_BIAS);
    kinds["bn_gamma"] = static_cast<int>(L2L_PARAM_BN_GAMMA);
    kinds["bn_beta"] = static_cast<int>(L2L_PARAM_BN_BETA);
    m.attr("PARAM_KINDS") = kinds;

    py::class_<Dataset>(m, "Dataset", "An l2l_dataset handle.")
        .def_static("load", &dataset_load, py::arg("name"), py::arg("split"), py::arg("directory") = py::none(),
                    "l2l_dataset_load (GIL released).")
        .def_static("load_idx", &dataset_load_idx, py::arg("images"), py::arg("labels"),
                    "l2l_dataset_load_idx (GIL released).")
        .def_static("create", &dataset_create, py::arg("inputs"), py::arg("labels"), py::arg("classes"),
                    "l2l_dataset_create from a float32 [n, features] and an int32 [n] array (copied).")
        .def("info", [](Dataset &d) {
                InUse use("l2l_dataset_info", {&d.busy});
                auto [count, features, classes] = d.info();
                return py::make_tuple(count, features, classes);
            }, "l2l_dataset_info: (count, features, classes).")
        .def("statistics", &dataset_statistics, "l2l_dataset_statistics: (mean, std).")
        .def("standardize", &dataset_standardize, py::arg("mean"), py::arg("std"), "l2l_dataset_standardize (in place).")
        .def("read", &dataset_read, py::arg("start"), py::arg("count"), py::arg("inputs") = true,
             py::arg("labels") = true, "l2l_dataset_read into new arrays: (inputs or None, labels or None).")
        .def("example_shape", &dataset_example_shape, "l2l_dataset_example_shape: a tuple of ints.")
        .def("grey_crop", &dataset_grey_crop, py::arg("rows"), py::arg("columns"), py::arg("options") = py::none(),
             "l2l_dataset_grey_crop (GIL released): a new Dataset.")
        .def("split", &dataset_split, py::arg("train"), py::arg("validation"), py::arg("test"), py::arg("seed"),
             "l2l_dataset_split (GIL released): (train, validation, test), None for a part of 0 examples.")
        .def("feature_statistics", &dataset_feature_statistics,
             "l2l_dataset_feature_statistics: (mean, std) as new float32 arrays.")
        .def("standardize_features", &dataset_standardize_features, py::arg("mean"), py::arg("std"),
             "l2l_dataset_standardize_features from float32 arrays (in place).")
        .def_static("synthetic", &dataset_synthetic, py::arg("family"), py::arg("options") = py::none(),
                    py::arg("seed") = 0, "l2l_dataset_synthetic (GIL released).");

    py::class_<Batches>(m, "Batches", "An l2l_batches handle.")
        .def(py::init(&batches_create), py::arg("dataset"), py::arg("batch_size"), py::arg("seed"),
             py::arg("options") = py::none(), "l2l_batches_create.")
        .def_readonly("batch_size", &Batches::batch_size)
        .def_readonly("features", &Batches::features)
        .def("next", &batches_next, "l2l_batches_next: (inputs, labels), or None at the end of an epoch.");

    py::class_<Learner>(m, "Learner", "An l2l_learner handle.")
        .def(py::init(&learner_create), py::arg("kind"), py::arg("options") = py::none(), py::arg("seed") = 0,
             "l2l_learner_create.")
        .def("info", [](Learner &l) {
                InUse use("l2l_learner_info", {&l.busy});
                auto [params, tensors, features, classes] = l.info();
                return py::make_tuple(params, tensors, features, classes);
            }, "l2l_learner_info: (num_params, num_tensors, input_features, classes).")
        .def("param_info", &learner_param_info, py::arg("index"),
             "l2l_learner_param_info: (name, kind, shape, offset, count).")
        .def("get_params", &learner_get_params, "l2l_learner_get_params into a new float32 array.")
        .def("set_params", &learner_set_params, py::arg("values"), "l2l_learner_set_params from a float32 array.")
        .def("loss_grad", &learner_loss_grad, py::arg("inputs"), py::arg("labels"), "l2l_learner_loss_grad: the loss.")
        .def("get_grads", &learner_get_grads, "l2l_learner_get_grads into a new float32 array.")
        .def("forward", &learner_forward, py::arg("inputs"), "l2l_learner_forward: logits [count, classes].")
        .def("evaluate", &learner_evaluate, py::arg("dataset"),
             "l2l_learner_evaluate (GIL released): (loss, accuracy).");

    py::class_<Optimizer>(m, "Optimizer", "An l2l_optimizer handle.")
        .def(py::init(&optimizer_create), py::arg("kind"), py::arg("options") = py::none(), "l2l_optimizer_create.")
        .def("step", &optimizer_step, py::arg("learner"), "l2l_optimizer_step.")
        .def("reset", &optimizer_reset, "l2l_optimizer_reset.")
        .def("fork", &optimizer_fork, "l2l_optimizer_fork: the same optimiser with a fresh state.")
        .def("update", &optimizer_update, py::arg("params"), py::arg("grads"), py::arg("inputs") = py::none(),
             "l2l_optimizer_update on float32 arrays, params updated in place.")
        .def("parameter_shapes", &optimizer_parameter_shapes, "l2l_optimizer_parameter_shapes: JSON text.")
        .def("get_state", &optimizer_get_state, "l2l_optimizer_get_state: (float32 values, step).")
        .def("set_state", &optimizer_set_state, py::arg("shapes"), py::arg("values"), py::arg("step"),
             "l2l_optimizer_set_state.");

    m.def("sine_tasks", &sine_tasks, py::arg("seed"), py::arg("tasks"), py::arg("k"),
          "l2l_sine_tasks (GIL released): (x [tasks, k, 1], y [tasks, k, 1], amplitude [tasks], phase [tasks]).");
    m.def("quadratic_tasks", &quadratic_tasks, py::arg("seed"), py::arg("tasks"), py::arg("dimension"),
          py::arg("options") = py::none(),
          "l2l_quadratic_tasks (GIL released): (w [tasks, dimension, dimension], y [tasks, dimension]).");

    py::dict events;
    events["non_finite_loss"] = static_cast<int>(L2L_EVENT_NON_FINITE_LOSS);
    events["non_finite_gradient"] = static_cast<int>(L2L_EVENT_NON_FINITE_GRADIENT);
    events["rollback"] = static_cast<int>(L2L_EVENT_ROLLBACK);
    events["collapse"] = static_cast<int>(L2L_EVENT_COLLAPSE);
    m.attr("EVENT_KINDS") = events;
    m.attr("META_SUMMARY_SIZE") = L2L_META_SUMMARY_SIZE;

    py::class_<Learned>(m, "Learned", "An l2l_learned handle.")
        .def(py::init(&learned_create), py::arg("kind"), py::arg("options") = py::none(),
             py::arg("learner") = py::none(), py::arg("seed") = 0, "l2l_learned_create (learner may be None).")
        .def_static("load", &learned_load, py::arg("path"), "l2l_learned_load (GIL released).")
        .def("info", &learned_info, "l2l_learned_info: (num_meta_params, num_tensors).")
        .def("describe", &learned_describe, "l2l_learned_describe: (kind, options text).")
        .def("get_meta", &learned_get_meta, "l2l_learned_get_meta into a new float32 array.")
        .def("set_meta", &learned_set_meta, py::arg("values"), "l2l_learned_set_meta from a float32 array.")
        .def("save", &learned_save, py::arg("path"), "l2l_learned_save (GIL released).");

    m.def("optimizer_create_learned", &optimizer_create_learned, py::arg("learned"), py::arg("options") = py::none(),
          "l2l_optimizer_create_learned: an Optimizer handle.");

    py::class_<CallbackTask>(m, "CallbackTask", "An l2l_task handle over Python callables.")
        .def(py::init(&task_create_callback), py::arg("shapes"), py::arg("init"), py::arg("loss_and_grad"),
             "l2l_task_create_callback: init(seed) -> arrays, loss_and_grad(arrays, step) -> (loss, arrays).");

    py::class_<MetaTrainer>(m, "MetaTrainer", "An l2l_meta_trainer handle.")
        .def(py::init(&meta_trainer_create), py::arg("learned"), py::arg("learners"), py::arg("datasets"),
             py::arg("options") = py::none(), "l2l_meta_trainer_create.")
        .def_static("from_tasks", &meta_trainer_from_tasks, py::arg("learned"), py::arg("tasks"),
                    py::arg("options") = py::none(), "l2l_meta_trainer_create_from_tasks (CallbackTask objects).")
        .def_static("resume", &meta_trainer_resume, py::arg("path"), py::arg("learned"), py::arg("learners"),
                    py::arg("datasets"), py::arg("options") = py::none(), "l2l_meta_trainer_resume (GIL released).")
        .def("run", &meta_trainer_run, py::arg("trials"), py::arg("progress") = py::none(),
             "l2l_meta_trainer_run (GIL released; re-acquired in the progress callback).")
        .def("info", &meta_trainer_info, "l2l_meta_trainer_info: (trials_done, meta_steps, unrolls).")
        .def("history", &meta_trainer_history, "l2l_meta_trainer_history into a new float32 array.")
        .def("events", &meta_trainer_events, "l2l_meta_trainer_events: a list of (kind code, trial, step).")
        .def("evaluate", &meta_trainer_evaluate, py::arg("instances") = 4, py::arg("seed") = 1,
             "l2l_meta_trainer_evaluate (GIL released): the meta-loss of the current phi.")
        .def("save_checkpoint", &meta_trainer_save_checkpoint, py::arg("path"),
             "l2l_meta_trainer_save_checkpoint (GIL released).")
        .def("get_learned", &meta_trainer_get_learned, py::arg("into"), "l2l_meta_trainer_get_learned.")
        .def("sizes", &meta_trainer_sizes, "l2l_meta_trainer_sizes: (meta_batch, phi_count, trials, iterations_per_trial).")
        .def("get_phi", &meta_trainer_get_phi, "l2l_meta_trainer_get_phi into a new float32 array.")
        .def("set_phi", &meta_trainer_set_phi, py::arg("phi"), "l2l_meta_trainer_set_phi (float32 [phi_count]).")
        .def("estimate", &meta_trainer_estimate, py::arg("members"),
             "l2l_meta_trainer_estimate (GIL released): (gradients [k, phi_count], summaries [k, 4]).")
        .def("combine", &meta_trainer_combine, py::arg("gradients"),
             "l2l_meta_trainer_combine: gradients [meta_batch, phi_count] -> [phi_count].")
        .def("apply", &meta_trainer_apply, py::arg("summaries"), py::arg("gradient"),
             "l2l_meta_trainer_apply: summaries [meta_batch, 4], gradient [phi_count] or None.");

    py::class_<MetaTest>(m, "MetaTest", "An l2l_meta_test handle (a meta-test's results).")
        .def("info", &meta_test_info,
             "l2l_meta_test_info: (learners, steps, evaluations, tensors, sparsity, seconds_per_step).")
        .def("curves", &meta_test_curves,
             "l2l_meta_test_curves: (training_loss [K, T], test_loss [K, E], test_accuracy [K, E], "
             "evaluation_steps [E]).")
        .def("zero_weights", &meta_test_zero_weights, "l2l_meta_test_zero_weights: (zeros [tensors], sizes [tensors]).")
        .def("rates", &meta_test_rates,
             "l2l_meta_test_rates: None, or (quantiles [K, E, 5], masked [K, E], saturated [K, E]).")
        .def("save", &meta_test_save, py::arg("path"), py::arg("format"), "l2l_meta_test_save (GIL released).");

    m.def("meta_test_run", &meta_test_run, py::arg("learner"), py::arg("optimizer"), py::arg("train"), py::arg("test"),
          py::arg("options") = py::none(), py::arg("progress") = py::none(),
          "l2l_meta_test_run (GIL released; re-acquired in the progress callback): a MetaTest.");

    py::class_<MLHF>(m, "MLHF", "An l2l_mlhf handle.")
        .def(py::init(&mlhf_create), py::arg("options") = py::none(), py::arg("seed") = 0, "l2l_mlhf_create.")
        .def_static("load", &mlhf_load, py::arg("path"), "l2l_mlhf_load (GIL released).")
        .def("info", &mlhf_info, "l2l_mlhf_info: (num_meta_params, num_tensors).")
        .def("describe", &mlhf_describe, "l2l_mlhf_describe: the options text.")
        .def("get_meta", &mlhf_get_meta, "l2l_mlhf_get_meta into a new float32 array.")
        .def("set_meta", &mlhf_set_meta, py::arg("values"), "l2l_mlhf_set_meta from a float32 array.")
        .def("save", &mlhf_save, py::arg("path"), "l2l_mlhf_save (GIL released).");

    m.def("optimizer_create_mlhf", &optimizer_create_mlhf, py::arg("mlhf"), py::arg("learner"),
          py::arg("options") = py::none(), "l2l_optimizer_create_mlhf: an Optimizer handle.");

    py::class_<MLHFTrainer>(m, "MLHFTrainer", "An l2l_mlhf_trainer handle.")
        .def(py::init(&mlhf_trainer_create), py::arg("mlhf"), py::arg("learner"), py::arg("dataset"),
             py::arg("options") = py::none(), "l2l_mlhf_trainer_create.")
        .def("run", &mlhf_trainer_run, py::arg("iterations"), py::arg("progress") = py::none(),
             "l2l_mlhf_trainer_run (GIL released; re-acquired in the progress callback, which receives "
             "(iteration, l_p, l_s, residual, loss, damping)).")
        .def("info", &mlhf_trainer_info, "l2l_mlhf_trainer_info: (iterations_done, iterations_configured, events).")
        .def("history", &mlhf_trainer_history,
             "l2l_mlhf_trainer_history: (l_p, l_s, residual, loss, damping), new float32 arrays.")
        .def("events", &mlhf_trainer_events, "l2l_mlhf_trainer_events: a list of (kind code, iteration, step).")
        .def("evaluate", &mlhf_trainer_evaluate, py::arg("mlhf") = py::none(), py::arg("unrolls") = 4,
             py::arg("seed") = 1, "l2l_mlhf_trainer_evaluate (GIL released): (l_p, l_s, residual, loss, damping).")
        .def("get_mlhf", &mlhf_trainer_get_mlhf, py::arg("into"), "l2l_mlhf_trainer_get_mlhf.");

    m.def("train", &train, py::arg("learner"), py::arg("optimizer"), py::arg("batches"), py::arg("steps"),
          py::arg("losses") = py::none(), py::arg("progress") = py::none(),
          "l2l_train (GIL released; re-acquired in the progress callback).");

    bind_fewshot(m);
    bind_lstm_learner(m);
}

// ---------------------------------------------------------------------------------
// Regression (real-valued targets) and few-shot learning
// ---------------------------------------------------------------------------------

namespace {

// Rows of a float32 [n, k] array whose row count must be `rows`.
py::buffer_info request_targets(py::handle targets, const char *fn, py::ssize_t rows) {
    py::buffer_info y = request_array(targets, fn, "targets", Element::float32, 2);
    if (y.shape[0] != rows) {
        raise_error(L2L_ERR_SHAPE, fn,
                    "inputs have " + std::to_string(rows) + " rows but targets have " + std::to_string(y.shape[0]));
    }
    return y;
}

float learner_loss_grad_values(Learner &l, py::handle inputs, py::handle targets) {
    const char *fn = "l2l_learner_loss_grad_values";
    InUse use(fn, {&l.busy});
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    py::buffer_info y = request_targets(targets, fn, x.shape[0]);
    float loss = 0;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_learner_loss_grad_values(l.handle, static_cast<const float *>(x.ptr), static_cast<const float *>(y.ptr),
                                         x.shape[0], x.shape[1], y.shape[1], &loss);
    }
    check(s, fn);
    return loss;
}

std::unique_ptr<Dataset> dataset_create_regression(py::handle inputs, py::handle targets) {
    const char *fn = "l2l_dataset_create_regression";
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    py::buffer_info y = request_targets(targets, fn, x.shape[0]);
    l2l_dataset *out = nullptr;
    check(l2l_dataset_create_regression(&out, static_cast<const float *>(x.ptr), static_cast<const float *>(y.ptr),
                                        x.shape[0], x.shape[1], y.shape[1]),
          fn);
    return std::make_unique<Dataset>(out);
}

bool dataset_is_regression(Dataset &d) {
    const char *fn = "l2l_dataset_is_regression";
    InUse use(fn, {&d.busy});
    int32_t r = 0;
    check(l2l_dataset_is_regression(d.handle, &r), fn);
    return r != 0;
}

py::object dataset_read_values(Dataset &d, int64_t start, int64_t count) {
    const char *fn = "l2l_dataset_read_values";
    InUse use(fn, {&d.busy});
    if (count < 1) raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "count must be at least 1, got " + std::to_string(count));
    auto out = new_array({count, std::get<2>(d.info())}, Element::float32);
    check(l2l_dataset_read_values(d.handle, start, count, static_cast<float *>(out.second.ptr)), fn);
    return out.first;
}

struct FewShot : Owned<l2l_fewshot, l2l_fewshot_free> {
    using Owned::Owned;
};

std::unique_ptr<FewShot> fewshot_create(Learner &l, const std::optional<std::string> &options) {
    const char *fn = "l2l_fewshot_create";
    InUse use(fn, {&l.busy});
    l2l_fewshot *out = nullptr;
    check(l2l_fewshot_create(&out, l.handle, c_str_or_null(options)), fn);
    return std::make_unique<FewShot>(out);
}

std::unique_ptr<FewShot> fewshot_load(const std::string &path, Learner &l) {
    const char *fn = "l2l_fewshot_load";
    InUse use(fn, {&l.busy});
    l2l_fewshot *out = nullptr;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_fewshot_load(&out, path.c_str(), l.handle);
    }
    check(s, fn);
    return std::make_unique<FewShot>(out);
}

py::tuple fewshot_info(FewShot &f) {
    const char *fn = "l2l_fewshot_info";
    InUse use(fn, {&f.busy});
    int64_t n = 0, iterations = 0, events = 0;
    check(l2l_fewshot_info(f.handle, &n, &iterations, &events), fn);
    return py::make_tuple(n, iterations, events);
}

py::object fewshot_get_meta(FewShot &f) {
    const char *fn = "l2l_fewshot_get_meta";
    InUse use(fn, {&f.busy});
    int64_t n = 0;
    check(l2l_fewshot_get_meta(f.handle, nullptr, 0, &n), fn);
    auto out = new_array({n}, Element::float32);
    check(l2l_fewshot_get_meta(f.handle, static_cast<float *>(out.second.ptr), n, &n), fn);
    return out.first;
}

// Runs l2l_fewshot_fit without the GIL; `losses` is a writable float32 array of at least
// `iterations` elements; the callback receives (iteration, iterations, meta_loss).
void fewshot_fit(FewShot &f, const std::string &tasks, const std::optional<std::string> &task_options,
                 const std::optional<std::string> &options, int64_t iterations, py::handle losses, py::object callback) {
    const char *fn = "l2l_fewshot_fit";
    InUse use(fn, {&f.busy});
    py::buffer_info lb = request_array(losses, fn, "losses", Element::float32, 1, true);
    if (lb.shape[0] < iterations) {
        raise_error(L2L_ERR_BUFFER_TOO_SMALL, fn,
                    "losses holds " + std::to_string(lb.shape[0]) + " floats, " + std::to_string(iterations) +
                        " iterations need as many");
    }
    run_with_progress(fn, std::move(callback), [&](Progress *progress) {
        return l2l_fewshot_fit(f.handle, tasks.c_str(), c_str_or_null(task_options), c_str_or_null(options), iterations,
                               static_cast<float *>(lb.ptr), progress_trampoline, progress);
    });
}

void fewshot_adapt(FewShot &f, py::handle inputs, py::handle targets, int64_t steps, Learner &into) {
    const char *fn = "l2l_fewshot_adapt";
    InUse use(fn, {&f.busy, &into.busy});
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    py::buffer_info y = request_targets(targets, fn, x.shape[0]);
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_fewshot_adapt(f.handle, static_cast<const float *>(x.ptr), static_cast<const float *>(y.ptr), x.shape[0],
                              x.shape[1], y.shape[1], steps, into.handle);
    }
    check(s, fn);
}

// l2l_fewshot_evaluate without the GIL: (losses [shots, tasks], means [shots], intervals [shots]).
py::tuple fewshot_evaluate(FewShot &f, const std::string &tasks, const std::optional<std::string> &task_options,
                           int64_t task_count, py::handle shots, int64_t steps, uint64_t seed) {
    const char *fn = "l2l_fewshot_evaluate";
    InUse use(fn, {&f.busy});
    py::buffer_info k = request_array(shots, fn, "shots", Element::int64, 1);
    if (task_count < 1 || k.shape[0] < 1 || task_count > (int64_t{1} << 31) / k.shape[0]) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "tasks and the number of shot counts must be at least 1 (and their product below 2^31)");
    }
    auto losses = new_array({k.shape[0], task_count}, Element::float32);
    auto means = new_array({k.shape[0]}, Element::float32);
    auto intervals = new_array({k.shape[0]}, Element::float32);
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_fewshot_evaluate(f.handle, tasks.c_str(), c_str_or_null(task_options), task_count,
                                 static_cast<const int64_t *>(k.ptr), k.shape[0], steps, seed,
                                 static_cast<float *>(losses.second.ptr), static_cast<float *>(means.second.ptr),
                                 static_cast<float *>(intervals.second.ptr));
    }
    check(s, fn);
    return py::make_tuple(losses.first, means.first, intervals.first);
}

void fewshot_save(FewShot &f, const std::string &path) {
    save_file(l2l_fewshot_save, f, path, "l2l_fewshot_save");
}

}  // namespace

void bind_fewshot(py::module_ &m) {
    py::class_<FewShot>(m, "FewShot", "An l2l_fewshot handle.")
        .def(py::init(&fewshot_create), py::arg("learner"), py::arg("options") = py::none(), "l2l_fewshot_create.")
        .def_static("load", &fewshot_load, py::arg("path"), py::arg("learner"), "l2l_fewshot_load (GIL released).")
        .def("info", &fewshot_info, "l2l_fewshot_info: (num_meta_params, iterations, events).")
        .def("get_meta", &fewshot_get_meta, "l2l_fewshot_get_meta into a new float32 array.")
        .def("fit", &fewshot_fit, py::arg("tasks"), py::arg("task_options"), py::arg("options"), py::arg("iterations"),
             py::arg("losses"), py::arg("progress") = py::none(),
             "l2l_fewshot_fit (GIL released; re-acquired in the progress callback).")
        .def("adapt", &fewshot_adapt, py::arg("inputs"), py::arg("targets"), py::arg("steps"), py::arg("into"),
             "l2l_fewshot_adapt (GIL released) into a Learner.")
        .def("evaluate", &fewshot_evaluate, py::arg("tasks"), py::arg("task_options"), py::arg("task_count"),
             py::arg("shots"), py::arg("steps"), py::arg("seed"),
             "l2l_fewshot_evaluate (GIL released): (losses [shots, tasks], means, intervals).")
        .def("save", &fewshot_save, py::arg("path"), "l2l_fewshot_save (GIL released).");
    m.def("learner_loss_grad_values", &learner_loss_grad_values, py::arg("learner"), py::arg("inputs"),
          py::arg("targets"), "l2l_learner_loss_grad_values (GIL released): the mean squared error.");
    m.def("dataset_create_regression", &dataset_create_regression, py::arg("inputs"), py::arg("targets"),
          "l2l_dataset_create_regression from float32 [n, features] and [n, outputs] arrays (copied).");
    m.def("dataset_is_regression", &dataset_is_regression, py::arg("dataset"), "l2l_dataset_is_regression.");
    m.def("dataset_read_values", &dataset_read_values, py::arg("dataset"), py::arg("start"), py::arg("count"),
          "l2l_dataset_read_values into a new float32 [count, outputs] array.");
}

// ---------------------------------------------------------------------------------
// The LSTM learner (Bosc 2016)
// ---------------------------------------------------------------------------------

namespace {

struct LSTMLearner : Owned<l2l_lstm_learner, l2l_lstm_learner_free> {
    using Owned::Owned;
};

std::unique_ptr<LSTMLearner> lstm_learner_create(const std::optional<std::string> &options) {
    l2l_lstm_learner *out = nullptr;
    check(l2l_lstm_learner_create(&out, c_str_or_null(options)), "l2l_lstm_learner_create");
    return std::make_unique<LSTMLearner>(out);
}

std::unique_ptr<LSTMLearner> lstm_learner_load(const std::string &path) {
    return load_file<LSTMLearner>(l2l_lstm_learner_load, path, "l2l_lstm_learner_load");
}

py::tuple lstm_learner_info(LSTMLearner &l) {
    const char *fn = "l2l_lstm_learner_info";
    InUse use(fn, {&l.busy});
    int64_t d = 0, p = 0, n = 0, iterations = 0, events = 0;
    check(l2l_lstm_learner_info(l.handle, &d, &p, &n, &iterations, &events), fn);
    return py::make_tuple(d, p, n, iterations, events);
}

py::object lstm_learner_get_meta(LSTMLearner &l) {
    const char *fn = "l2l_lstm_learner_get_meta";
    InUse use(fn, {&l.busy});
    int64_t n = 0;
    check(l2l_lstm_learner_get_meta(l.handle, nullptr, 0, &n), fn);
    auto out = new_array({n}, Element::float32);
    check(l2l_lstm_learner_get_meta(l.handle, static_cast<float *>(out.second.ptr), n, &n), fn);
    return out.first;
}

// l2l_lstm_learner_fit without the GIL; `losses` is a writable float32 array of at least
// `iterations` elements; the callback receives (iteration, iterations, objective).
void lstm_learner_fit(LSTMLearner &l, int64_t iterations, py::handle losses, py::object callback) {
    const char *fn = "l2l_lstm_learner_fit";
    InUse use(fn, {&l.busy});
    py::buffer_info lb = request_array(losses, fn, "losses", Element::float32, 1, true);
    if (lb.shape[0] < iterations) {
        raise_error(L2L_ERR_BUFFER_TOO_SMALL, fn,
                    "losses holds " + std::to_string(lb.shape[0]) + " floats, " + std::to_string(iterations) +
                        " iterations need as many");
    }
    run_with_progress(fn, std::move(callback), [&](Progress *progress) {
        return l2l_lstm_learner_fit(l.handle, iterations, static_cast<float *>(lb.ptr), progress_trampoline, progress);
    });
}

// l2l_lstm_learner_run without the GIL on float32 inputs [n, d] and labels [n]:
// (predictions [n], (train, test, all) losses [3], weights [n + 1, P] or None).
py::tuple lstm_learner_run(LSTMLearner &l, py::handle inputs, py::handle labels, int64_t train_count, bool keep_weights) {
    const char *fn = "l2l_lstm_learner_run";
    InUse use(fn, {&l.busy});
    py::buffer_info x = request_array(inputs, fn, "inputs", Element::float32, 2);
    py::buffer_info y = request_array(labels, fn, "labels", Element::float32, 1);
    if (y.shape[0] != x.shape[0]) {
        raise_error(L2L_ERR_SHAPE, fn,
                    "inputs have " + std::to_string(x.shape[0]) + " rows but labels have " + std::to_string(y.shape[0]));
    }
    int64_t d = 0, p = 0;
    check(l2l_lstm_learner_info(l.handle, &d, &p, nullptr, nullptr, nullptr), fn);
    if (keep_weights && x.shape[0] >= (int64_t{1} << 31) / p) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "the weights of so long a sequence would not fit in one array");
    }
    auto predictions = new_array({x.shape[0]}, Element::float32);
    auto losses = new_array({3}, Element::float32);
    py::object weights = py::none();
    float *w = nullptr;
    int64_t capacity = 0;
    if (keep_weights) {
        auto a = new_array({x.shape[0] + 1, p}, Element::float32);
        weights = a.first;
        w = static_cast<float *>(a.second.ptr);
        capacity = (x.shape[0] + 1) * p;
    }
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_lstm_learner_run(l.handle, static_cast<const float *>(x.ptr), static_cast<const float *>(y.ptr),
                                 x.shape[0], x.shape[1], train_count, static_cast<float *>(predictions.second.ptr), w,
                                 capacity, static_cast<float *>(losses.second.ptr));
    }
    check(s, fn);
    return py::make_tuple(predictions.first, losses.first, weights);
}

// l2l_lstm_learner_evaluate without the GIL: (per-data-set test losses [datasets], mean, std).
py::tuple lstm_learner_evaluate(LSTMLearner &l, const std::optional<std::string> &options, int64_t datasets,
                                 uint64_t seed) {
    const char *fn = "l2l_lstm_learner_evaluate";
    InUse use(fn, {&l.busy});
    if (datasets < 1 || datasets > (int64_t{1} << 31)) {
        raise_error(L2L_ERR_INVALID_ARGUMENT, fn, "datasets must be in 1..2^31, got " + std::to_string(datasets));
    }
    auto losses = new_array({datasets}, Element::float32);
    float mean = 0, std = 0;
    l2l_status s;
    {
        py::gil_scoped_release nogil;
        s = l2l_lstm_learner_evaluate(l.handle, c_str_or_null(options), datasets, seed,
                                      static_cast<float *>(losses.second.ptr), &mean, &std);
    }
    check(s, fn);
    return py::make_tuple(losses.first, mean, std);
}

void lstm_learner_save(LSTMLearner &l, const std::string &path) {
    save_file(l2l_lstm_learner_save, l, path, "l2l_lstm_learner_save");
}

}  // namespace

void bind_lstm_learner(py::module_ &m) {
    py::class_<LSTMLearner>(m, "LSTMLearner", "An l2l_lstm_learner handle.")
        .def(py::init(&lstm_learner_create), py::arg("options") = py::none(), "l2l_lstm_learner_create.")
        .def_static("load", &lstm_learner_load, py::arg("path"), "l2l_lstm_learner_load (GIL released).")
        .def("info", &lstm_learner_info,
             "l2l_lstm_learner_info: (dimension, num_params, num_meta_params, iterations, events).")
        .def("get_meta", &lstm_learner_get_meta, "l2l_lstm_learner_get_meta into a new float32 array.")
        .def("fit", &lstm_learner_fit, py::arg("iterations"), py::arg("losses"), py::arg("progress") = py::none(),
             "l2l_lstm_learner_fit (GIL released; re-acquired in the progress callback).")
        .def("run", &lstm_learner_run, py::arg("inputs"), py::arg("labels"), py::arg("train_count"),
             py::arg("keep_weights"),
             "l2l_lstm_learner_run (GIL released): (predictions, (train, test, all) losses, weights or None).")
        .def("evaluate", &lstm_learner_evaluate, py::arg("options"), py::arg("datasets"), py::arg("seed"),
             "l2l_lstm_learner_evaluate (GIL released): (test-part losses, one per data set; mean; std).")
        .def("save", &lstm_learner_save, py::arg("path"), "l2l_lstm_learner_save (GIL released).");
}
