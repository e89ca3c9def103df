/// Options as a short text of `key=value` pairs separated by `;`, newlines or spaces,
/// e.g. `"sizes=784,32,10; activation=relu"`. Lists are comma-separated.
///
/// Readers take the keys they know with the typed accessors, then call ``finish()``,
/// which rejects any key nobody took, so a misspelt option is an error, never ignored.
public struct Config {
    private var values: [String: String]
    private var taken = Set<String>()
    /// What the options configure, for error messages (e.g. "mlp").
    public let context: String

    /// Parses `text`; an empty or `nil` text means "all defaults".
    public init(_ text: String?, context: String) throws {
        self.context = context
        values = [:]
        guard let text else { return }
        let separators: Set<Character> = [";", "\n", " ", "\t"]
        for item in text.split(whereSeparator: { separators.contains($0) }) {
            guard let eq = item.firstIndex(of: "=") else {
                throw L2LError.invalid("\(context): option '\(item)' is not of the form key=value")
            }
            let key = String(item[..<eq]), value = String(item[item.index(after: eq)...])
            guard !key.isEmpty, !value.isEmpty else {
                throw L2LError.invalid("\(context): option '\(item)' has an empty key or value")
            }
            guard values[key] == nil else { throw L2LError.invalid("\(context): option '\(key)' given twice") }
            values[key] = value
        }
    }

    /// The raw text of `key`, marking it as known.
    public mutating func string(_ key: String) -> String? {
        taken.insert(key)
        return values[key]
    }

    /// A finite number written in decimal (`1e-3`, `-0.5`), or nil: hexadecimal (`0x10`),
    /// `inf`/`nan`, and values a Float cannot hold (`1e40`, or `1e-400`, which would silently
    /// become 0) are refused.
    public static func decimal(_ text: Substring) -> Float? {
        guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }), let d = Double(text) else { return nil }
        let v = Float(d)
        let zeroWritten = text.prefix { $0 != "e" && $0 != "E" }.allSatisfy { "0+-.".contains($0) }
        guard v.isFinite, v.isNormal || (v == 0 && zeroWritten) else { return nil }
        return v
    }

    /// A finite number, or `defaultValue` when absent.
    public mutating func float(_ key: String, default defaultValue: Float,
                               range: ClosedRange<Float> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude) throws -> Float {
        guard let s = string(key) else { return defaultValue }
        guard let v = Self.decimal(s[...]) else {
            throw L2LError.invalid("\(context): \(key)=\(s) is not a finite number (decimal, within the range of a 32-bit float)")
        }
        guard range.contains(v) else { throw L2LError.invalid("\(context): \(key)=\(s) is outside [\(range.lowerBound), \(range.upperBound)]") }
        return v
    }

    /// An integer, or `defaultValue` when absent.
    public mutating func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min ... Int.max) throws -> Int {
        guard let s = string(key) else { return defaultValue }
        guard let v = Int(s) else { throw L2LError.invalid("\(context): \(key)=\(s) is not an integer") }
        guard range.contains(v) else { throw L2LError.invalid("\(context): \(key)=\(s) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    /// A boolean (`1/0`, `true/false`, `yes/no`), or `defaultValue` when absent.
    public mutating func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let s = string(key) else { return defaultValue }
        switch s.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw L2LError.invalid("\(context): \(key)=\(s) is not a boolean")
        }
    }

    /// A comma-separated list of integers, or `nil` when absent.
    public mutating func ints(_ key: String) throws -> [Int]? {
        guard let s = string(key) else { return nil }
        let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        let ints = parts.compactMap { Int($0) }
        guard ints.count == parts.count else { throw L2LError.invalid("\(context): \(key)=\(s) is not a list of integers") }
        return ints
    }

    /// One of `choices`, or `defaultValue` when absent.
    public mutating func choice<T>(_ key: String, default defaultValue: T, _ choices: [String: T]) throws -> T {
        guard let s = string(key) else { return defaultValue }
        guard let v = choices[s] else {
            throw L2LError.invalid("\(context): \(key)=\(s) is not one of \(choices.keys.sorted().joined(separator: ", "))")
        }
        return v
    }

    /// Fails if any option was given that no accessor asked for.
    public func finish() throws {
        let unknown = Set(values.keys).subtracting(taken).sorted()
        guard unknown.isEmpty else {
            throw L2LError.invalid("\(context): unknown option\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", ")) (known: \(taken.sorted().joined(separator: ", ")))")
        }
    }
}
