/// The IDX format of MNIST, Fashion-MNIST and KMNIST: a 4-byte magic (two zero bytes,
/// an element type, the number of dimensions), big-endian 32-bit dimensions, then the
/// elements in row-major order. Files may be gzip-compressed.
public struct IDXArray {
    /// Element types the format defines (third byte of the magic).
    public enum ElementType: UInt8, Sendable {
        case uint8 = 0x08, int8 = 0x09, int16 = 0x0B, int32 = 0x0C, float32 = 0x0D, float64 = 0x0E

        var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    /// The dimensions, outermost first.
    public let shape: [Int]
    public let elementType: ElementType
    /// The elements converted to `Float`, row-major.
    public let values: [Float]

    /// Reads and validates `path`: magic number, element type, and that the data are exactly
    /// as long as the dimensions say (a truncated or padded file is rejected).
    public init(contentsOf path: String) throws {
        let bytes = try readPossiblyGzippedFile(path)
        try self.init(bytes: bytes, name: path)
    }

    /// Parses an IDX file held in memory; `name` appears in error messages.
    public init(bytes: [UInt8], name: String) throws {
        guard bytes.count >= 4 else {
            throw L2LError.format("'\(name)': \(bytes.count) bytes is too short for an IDX header")
        }
        guard bytes[0] == 0, bytes[1] == 0, let type = ElementType(rawValue: bytes[2]) else {
            let hex = bytes[0..<4].map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined()
            throw L2LError.format("'\(name)': bad IDX magic number 0x\(hex) (expected 0x0000TTNN: type TT, NN dimensions)")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else {
            throw L2LError.format("'\(name)': IDX header declares \(rank) dimensions but the file ends first")
        }
        var shape = [Int]()
        var expected = type.size
        for d in 0..<rank {
            let o = 4 + 4 * d
            let dim = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(dim)
            let (product, overflow) = expected.multipliedReportingOverflow(by: dim)
            guard !overflow, product < 1 << 40 else { throw L2LError.format("'\(name)': IDX dimensions \(shape) are implausibly large") }
            expected = product
        }
        let header = 4 + 4 * rank
        let payload = bytes.count - header
        guard payload == expected else {
            throw L2LError.format("'\(name)': IDX data should be \(expected) bytes for shape \(shape) but \(payload < expected ? "only" : "") \(payload) bytes follow the header\(payload < expected ? " (truncated file)" : "")")
        }
        let n = expected / type.size
        values = bytes.withUnsafeBufferPointer { buf in
            let p = buf.baseAddress! + header
            return (0..<n).map { i in IDXArray.element(p + i * type.size, type) }
        }
        self.shape = shape
        elementType = type
    }

    private static func element(_ p: UnsafePointer<UInt8>, _ type: ElementType) -> Float {
        func bigEndian<T: FixedWidthInteger>(_: T.Type) -> T {
            var v: T = 0
            for k in 0..<MemoryLayout<T>.size { v = v << 8 | T(truncatingIfNeeded: p[k]) }
            return v
        }
        switch type {
        case .uint8: return Float(p[0])
        case .int8: return Float(Int8(bitPattern: p[0]))
        case .int16: return Float(Int16(bitPattern: bigEndian(UInt16.self)))
        case .int32: return Float(Int32(bitPattern: bigEndian(UInt32.self)))
        case .float32: return Float(bitPattern: bigEndian(UInt32.self))
        case .float64: return Float(Double(bitPattern: bigEndian(UInt64.self)))
        }
    }
}
