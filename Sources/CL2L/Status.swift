import Glibc
import L2L

// Status codes of include/l2l.h.
let L2L_OK: Int32 = 0
let L2L_ERR_INVALID_ARGUMENT: Int32 = 1
let L2L_ERR_SHAPE: Int32 = 2
let L2L_ERR_NON_FINITE: Int32 = 3
let L2L_ERR_IO: Int32 = 4
let L2L_ERR_FORMAT: Int32 = 5
let L2L_ERR_BUFFER_TOO_SMALL: Int32 = 6
let L2L_ERR_CANCELLED: Int32 = 7
let L2L_ERR_STATE: Int32 = 8
let L2L_ERR_INTERNAL: Int32 = 9

/// An error raised by the C layer itself, with the status it maps to.
struct ABIError: Error {
    let status: Int32
    let message: String
}

func status(of kind: L2LError.Kind) -> Int32 {
    switch kind {
    case .invalidArgument: return L2L_ERR_INVALID_ARGUMENT
    case .shapeMismatch: return L2L_ERR_SHAPE
    case .nonFinite: return L2L_ERR_NON_FINITE
    case .io: return L2L_ERR_IO
    case .format: return L2L_ERR_FORMAT
    case .cancelled: return L2L_ERR_CANCELLED
    }
}

// MARK: The thread-local last error

private let lastErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

private let emptyMessage: StaticString = ""

func setLastError(_ message: String) {
    free(pthread_getspecific(lastErrorKey))
    pthread_setspecific(lastErrorKey, strdup(message))
}

/// Runs the body of an exported function: every thrown error becomes a status code and
/// the thread's last-error message. `function` prefixes the message.
func guarded(_ function: String = #function, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return L2L_OK
    } catch let e as L2LError {
        setLastError("\(name(function)): \(e.message)")
        return status(of: e.kind)
    } catch let e as ABIError {
        setLastError("\(name(function)): \(e.message)")
        return e.status
    } catch {
        setLastError("\(name(function)): \(error)")
        return L2L_ERR_INTERNAL
    }
}

/// The C name of an exported function from Swift's `#function` ("l2l_x(_:_:)" → "l2l_x").
private func name(_ function: String) -> Substring { function.prefix { $0 != "(" } }

// MARK: Argument checks

func invalid(_ message: String) -> ABIError { ABIError(status: L2L_ERR_INVALID_ARGUMENT, message: message) }

/// The non-NULL pointer `p`, or an error naming the argument.
func required<T>(_ p: T?, _ what: String) throws -> T {
    guard let p else { throw invalid("\(what) is NULL") }
    return p
}

/// A Swift string from a required C string.
func string(_ p: UnsafePointer<CChar>?, _ what: String) throws -> String {
    String(cString: try required(p, what))
}

/// A Swift string from an optional C string (NULL → nil).
func optionalString(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

/// A count that must be non-negative (and small enough to allocate).
func count(_ n: Int64, _ what: String) throws -> Int {
    guard n >= 0, n <= Int64(Shape.maxElements) else { throw invalid("\(what) must be in 0...\(Shape.maxElements), got \(n)") }
    return Int(n)
}

/// Rows × columns of a caller's matrix, checked against the tensor size limit.
func matrixCount(_ rows: Int, _ columns: Int) throws -> Int {
    guard let n = Shape.checkedCount([rows, columns]) else {
        throw ABIError(status: L2L_ERR_SHAPE, message: "\(rows) × \(columns) values exceed the limit of \(Shape.maxElements)")
    }
    return n
}

/// Copies `n` values into a caller's buffer of `capacity`, or reports the size needed.
func deliver(_ n: Int, into out: UnsafeMutablePointer<Float>?, capacity: Int64,
             count: UnsafeMutablePointer<Int64>?, write: (UnsafeMutablePointer<Float>) -> Void) throws {
    count?.pointee = Int64(n)
    guard let out else {
        if count == nil { throw invalid("both the buffer and count are NULL") }
        return
    }
    guard capacity >= Int64(n) else {
        throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL, message: "buffer holds \(capacity) floats, \(n) are needed")
    }
    write(out)
}

/// Copies `tensors`, flattened in order, into a caller's buffer of `capacity`, or reports
/// the size needed (φ, a learner's parameters or gradients).
func deliver(_ tensors: [Tensor], into out: UnsafeMutablePointer<Float>?, capacity: Int64,
             count: UnsafeMutablePointer<Int64>?) throws {
    try deliver(tensors.reduce(0) { $0 + $1.count }, into: out, capacity: capacity, count: count) { flatten(tensors, into: $0) }
}

// MARK: Handles

/// The handles alive now (made by `handle(_:)` and not yet released): a pointer that is not
/// one of them — freed already, or never made by l2l — is refused before it is dereferenced.
private let liveHandles = HandleRegistry()

/// The set behind ``liveHandles``, guarded by a pthread mutex rather than `Mutex`:
/// `Synchronization.Mutex` waits on futexes ThreadSanitizer cannot see, so a host program run
/// under TSan saw two threads freeing handles as a race (a false report, but in their build).
private final class HandleRegistry: @unchecked Sendable {
    /// Allocated once and never moved (the process keeps the registry to the end).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    private var live = Set<UnsafeRawPointer>()

    func withLock<R>(_ body: (inout Set<UnsafeRawPointer>) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&live)
    }
}

/// Turns a Swift object into an opaque C handle (retained until `release`).
func handle<T: AnyObject>(_ object: T) -> OpaquePointer {
    let pointer = Unmanaged.passRetained(object).toOpaque()
    liveHandles.withLock { _ = $0.insert(UnsafeRawPointer(pointer)) }
    return OpaquePointer(pointer)
}

/// The object behind a handle (NULL is an error naming the argument).
/// A handle of another kind (a data set passed as a learner), a freed handle or a pointer l2l
/// never made is an error, not a crash.
func object<T: AnyObject>(_ h: OpaquePointer?, _ type: T.Type, _ what: String) throws -> T {
    let pointer = UnsafeRawPointer(try required(h, what))
    // The object is retained while the lock is held, so a concurrent free cannot pull it away.
    let any = try liveHandles.withLock { live -> AnyObject in
        guard live.contains(pointer) else { throw invalid("\(what) is not a live l2l handle (freed already, or never created by l2l)") }
        return Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue()
    }
    guard let typed = any as? T else { throw invalid("\(what) is a handle of another kind") }
    return typed
}

/// Releases a handle made by `handle(_:)`; NULL, a handle freed already and a handle of
/// another kind are no-ops.
func release<T: AnyObject>(_ h: OpaquePointer?, _ type: T.Type) {
    guard let h else { return }
    let pointer = UnsafeRawPointer(h)
    let removed = liveHandles.withLock { live -> Bool in
        guard live.contains(pointer), Unmanaged<AnyObject>.fromOpaque(pointer).takeUnretainedValue() is T else { return false }
        live.remove(pointer)
        return true
    }
    if removed { Unmanaged<T>.fromOpaque(pointer).release() }
}

/// Stores a new handle in a required out-pointer.
func store<T: AnyObject>(_ object: T, _ out: UnsafeMutablePointer<OpaquePointer?>) { out.pointee = handle(object) }

// MARK: Exports

@_cdecl("l2l_version")
public func l2l_version() -> UnsafePointer<CChar> { versionCString }

private let versionCString: UnsafePointer<CChar> = UnsafePointer(strdup(Library.version)!)

@_cdecl("l2l_build_info")
public func l2l_build_info(_ info: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ length: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let text = Library.buildInfo
        length?.pointee = Int64(text.utf8.count + 1)
        if info == nil && length == nil { throw invalid("both info and length are NULL") }
        try copyString(text, into: info, capacity: capacity, "info")
    }
}

@_cdecl("l2l_status_string")
public func l2l_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    let s: StaticString
    switch status {
    case L2L_OK: s = "ok"
    case L2L_ERR_INVALID_ARGUMENT: s = "invalid argument"
    case L2L_ERR_SHAPE: s = "shape mismatch"
    case L2L_ERR_NON_FINITE: s = "non-finite value"
    case L2L_ERR_IO: s = "input/output error"
    case L2L_ERR_FORMAT: s = "bad file format"
    case L2L_ERR_BUFFER_TOO_SMALL: s = "buffer too small"
    case L2L_ERR_CANCELLED: s = "cancelled"
    case L2L_ERR_STATE: s = "call out of order"
    case L2L_ERR_INTERNAL: s = "internal error"
    default: s = "unknown status"
    }
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("l2l_last_error")
public func l2l_last_error() -> UnsafePointer<CChar> {
    if let p = pthread_getspecific(lastErrorKey) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
    return UnsafeRawPointer(emptyMessage.utf8Start).assumingMemoryBound(to: CChar.self)
}
