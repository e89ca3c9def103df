/// Every error the library reports. `kind` says what a caller can do about it; `message`
/// says exactly what was wrong (the C ABI turns `kind` into an `l2l_status`).
public struct L2LError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// A bad argument: unknown option, out-of-range value, wrong type of thing.
        case invalidArgument
        /// Arrays whose sizes or shapes do not fit together.
        case shapeMismatch
        /// A NaN or infinity where finite numbers are required.
        case nonFinite
        /// A file that cannot be opened or read.
        case io
        /// A file whose content is truncated, corrupt or of the wrong kind.
        case format
        /// The caller's progress callback asked to stop.
        case cancelled
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ m: String) -> L2LError { L2LError(.invalidArgument, m) }
    static func shape(_ m: String) -> L2LError { L2LError(.shapeMismatch, m) }
    static func format(_ m: String) -> L2LError { L2LError(.format, m) }
}
