/// A JSON value: just enough JSON for file headers (the `.safetensors` header), with no
/// Foundation.
///
/// Parsing is strict RFC 8259: one value, optionally surrounded by whitespace, and nothing
/// after it; no trailing commas, comments, single quotes, leading zeros, `NaN` or
/// `Infinity`; no duplicate keys in an object; no unpaired surrogates in `\uXXXX` escapes;
/// nesting at most ``maxDepth`` arrays and objects deep. Writing is compact (no spaces) and
/// escapes strings as serde_json and Python's `json` do, so headers match other tools byte
/// for byte.
///
/// ```swift
/// let v = try JSONValue.parse(Array(#"{"shape":[2,3]}"#.utf8))
/// v["shape"]    // .array([.integer(2), .integer(3)])
/// v.serialized() == Array(#"{"shape":[2,3]}"#.utf8)
/// ```
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other (finite) number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in the order they were written; keys are unique.
    case object([(key: String, value: JSONValue)])

    /// How many arrays and objects may nest inside one another.
    static let maxDepth = 64

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value of `key` in an object, `nil` for a missing key or a value that is not an object.
    subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// What kind of value this is, for error messages ("an object", "a string", …).
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Why a text is not valid JSON, and where: `offset` counts bytes from its start.
struct JSONParseError: Error, CustomStringConvertible {
    let message: String
    let offset: Int

    var description: String { "\(message) at byte \(offset)" }
}

// MARK: Parsing

extension JSONValue {
    /// Parses UTF-8 `bytes` holding exactly one JSON value (whitespace around it is allowed).
    ///
    /// Throws ``JSONParseError`` naming the first problem and its byte offset.
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 1)
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw parser.fail("unexpected \(parser.describeNext()) after the JSON value")
        }
        return value
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: index) }

    /// The next byte, for error messages: `'x'`, a hex code, or "end of input".
    func describeNext() -> String {
        guard index < bytes.count else { return "end of input" }
        let b = bytes[index]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + hex(b, digits: 2)
    }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard index < bytes.count, bytes[index] == byte else {
            throw fail("expected \(what), found \(describeNext())")
        }
        index += 1
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard index < bytes.count else { throw fail("expected a value, found end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("expected a value, found \(describeNext())")
        }
    }

    mutating func literal(_ word: String) throws {
        for b in word.utf8 {
            guard index < bytes.count, bytes[index] == b else { throw fail("invalid literal (expected '\(word)')") }
            index += 1
        }
    }

    mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth) levels") }
        index += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                if index < bytes.count, bytes[index] == UInt8(ascii: "}"), !members.isEmpty {
                    throw fail("trailing comma in object")
                }
                throw fail("expected a string key, found \(describeNext())")
            }
            let keyOffset = index
            let key = try string()
            guard keys.insert(key).inserted else {
                throw JSONParseError(message: "duplicate key \(JSONValue.string(key).serializedText)", offset: keyOffset)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after an object key")
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in object")
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth) levels") }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]"), !elements.isEmpty {
                throw fail("trailing comma in array")
            }
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in array")
            return .array(elements)
        }
    }

    mutating func string() throws -> String {
        let start = index
        index += 1  // "
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw JSONParseError(message: "unterminated string", offset: start)
            }
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                guard let s = String(validating: utf8, as: UTF8.self) else {
                    throw JSONParseError(message: "string is not valid UTF-8", offset: start)
                }
                return s
            case UInt8(ascii: "\\"):
                index += 1
                try escape(into: &utf8)
            case 0..<0x20:
                throw fail("unescaped control character U+00\(hex(b, digits: 2)) in string")
            default:
                utf8.append(b)
                index += 1
            }
        }
    }

    /// Decodes the escape after a backslash and appends it as UTF-8.
    mutating func escape(into utf8: inout [UInt8]) throws {
        guard index < bytes.count else { throw fail("unterminated string") }
        let c = bytes[index]
        index += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(c)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate \\u\(hex(code, digits: 4))")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate \\u\(hex(code, digits: 4))") }
                code = 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(code) {
                throw fail("unpaired surrogate \\u\(hex(code, digits: 4))")
            }
            utf8.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
        default:
            index -= 1
            throw fail("invalid escape \\\(describeNext())")
        }
    }

    mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let d = hexDigit(bytes[index]) else {
                throw fail("\\u must be followed by four hex digits")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    mutating func number() throws -> JSONValue {
        let start = index
        var isInteger = true
        func digits() -> Int {
            let from = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - from
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        guard digits() > 0 else { throw fail("expected a digit in number, found \(describeNext())") }
        if bytes[intStart] == UInt8(ascii: "0") && index - intStart > 1 {
            throw JSONParseError(message: "number with a leading zero", offset: start)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard digits() > 0 else { throw fail("expected a digit after '.', found \(describeNext())") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("expected a digit in exponent, found \(describeNext())") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let i = Int(text) { return .integer(i) }
        guard let d = Double(text), d.isFinite else {
            throw JSONParseError(message: "number \(text) is out of range", offset: start)
        }
        return .number(d)
    }
}

private func hexDigit(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
    default: return nil
    }
}

/// `value` in lowercase hexadecimal, zero-padded to `digits`.
private func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

// MARK: Writing

extension JSONValue {
    /// Compact UTF-8 JSON (no whitespace), members in order. Strings escape `"`, `\` and
    /// control characters (as `\b \f \n \r \t` or `\u00xx`); everything else is written as
    /// UTF-8. Traps on a non-finite ``number`` (JSON cannot represent it).
    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    /// ``serialized()`` as a `String`.
    var serializedText: String { String(decoding: serialized(), as: UTF8.self) }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case let .bool(b): out += (b ? "true" : "false").utf8
        case let .integer(i): out += String(i).utf8
        case let .number(d):
            precondition(d.isFinite, "JSONValue.serialized: \(d) cannot be written as JSON")
            out += d.description.utf8
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(elements):
            out.append(UInt8(ascii: "["))
            for (k, e) in elements.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                e.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(m.key, to: &out)
                out.append(UInt8(ascii: ":"))
                m.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0..<0x20: out += ("\\u00" + hex(b, digits: 2)).utf8
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
