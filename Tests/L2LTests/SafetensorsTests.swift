import Glibc
@testable import L2L
import L2LTestSupport
import XCTest

final class SafetensorsTests: XCTestCase {
    let dir = temporaryDirectory()

    // MARK: Helpers

    /// An 8-byte little-endian length followed by `header` (as written, padding included) and `data`.
    private func file(_ header: String, _ data: [UInt8] = []) -> [UInt8] {
        let n = header.utf8.count
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + Array(header.utf8) + data
    }

    /// The little-endian bytes of `values`.
    private func le(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in
            let b = v.bitPattern
            return [UInt8(b & 255), UInt8(b >> 8 & 255), UInt8(b >> 16 & 255), UInt8(b >> 24)]
        }
    }

    private func bits(_ t: Tensor?) -> [UInt32] { t?.scalars.map(\.bitPattern) ?? [] }

    /// A valid file with two tensors and metadata, and the byte ranges of strings whose
    /// content may change without making the file invalid (names and metadata text).
    private func sample() throws -> [UInt8] {
        try SafetensorsFile(tensors: [("w", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])),
                                      ("b", Tensor(shape: [3], scalars: [-1, 0, 1]))],
                            metadata: ["kind": "mlp"]).serialized()
    }

    // MARK: Round trip

    func testRoundTripKeepsNamesShapesOrderBitsAndMetadata() throws {
        let specials: [Float] = [-0.0, 0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                 .leastNormalMagnitude.nextDown, .greatestFiniteMagnitude, -.infinity, .infinity,
                                 Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFFA0_0001), 1e-40, .pi]
        let tensors: [(name: String, tensor: Tensor)] = [
            ("zeta", Tensor(shape: [3, 4], scalars: specials)),
            ("scalar", Tensor(2.5)),
            ("empty", Tensor(shape: [0], scalars: [])),
            ("empty2d", Tensor(shape: [3, 0, 2], scalars: [])),
            ("alpha.weight", Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])),
            ("", Tensor(shape: [1], scalars: [7])),
            ("naïve \"quoted\" \\ / \n ☃ 😀", Tensor(shape: [1], scalars: [8])),
        ]
        let metadata = [
            "kind": "coordinate-lstm",
            "config": "hidden=20; \"quoted\" and back\\slash \\\" and \\u0041",
            "unicode": "é ☃ 😀 \u{1} \u{1F} \t\n\r \u{7F} / </script>",
            "": "empty key",
            "empty value": "",
        ]
        let path = dir + "/model.safetensors"
        try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: path)
        XCTAssertNotEqual(access(path + ".tmp", F_OK), 0, "the temporary file is renamed away")

        let loaded = try SafetensorsFile(contentsOf: path)
        XCTAssertEqual(loaded.tensors.map(\.name), tensors.map(\.name))
        XCTAssertEqual(loaded.metadata, metadata)
        for (a, b) in zip(loaded.tensors, tensors) {
            XCTAssertEqual(a.tensor.shape, b.tensor.shape, a.name)
            XCTAssertEqual(bits(a.tensor), bits(b.tensor), a.name)
        }
        XCTAssertEqual(bits(loaded["zeta"]), specials.map(\.bitPattern))
        XCTAssertEqual(loaded["scalar"]?.shape, [])
        XCTAssertNil(loaded["missing"])

        // The same content serialises to the same bytes (metadata keys are sorted), and the
        // data section starts 8-byte aligned.
        let bytes = try loaded.serialized()
        XCTAssertEqual(bytes, try SafetensorsFile(tensors: tensors, metadata: metadata).serialized())
        XCTAssertEqual(Int(bytes[0]) % 8, 0)
        XCTAssertEqual(try SafetensorsFile(bytes: bytes, name: "again").metadata, metadata)

        // Overwriting an existing file works and replaces it.
        try SafetensorsFile(tensors: [("only", Tensor(1))]).write(to: path)
        let replaced = try SafetensorsFile(contentsOf: path)
        XCTAssertEqual(replaced.tensors.map(\.name), ["only"])
        XCTAssertEqual(replaced.metadata, [:])
    }

    func testTensorLookupChecksNameAndShape() throws {
        let f = try SafetensorsFile(bytes: sample(), name: "net.safetensors")
        XCTAssertEqual(try f.tensor("w", shape: [2, 3]).scalars, [1, 2, 3, 4, 5, 6])
        assertThrows(.format, containing: "'net.safetensors': no tensor named 'v' (it has 'w', 'b')") {
            try f.tensor("v", shape: [2, 3])
        }
        assertThrows(.format, containing: "tensor 'w' has shape [2, 3], expected [3, 2]") { try f.tensor("w", shape: [3, 2]) }
        assertThrows(.format, containing: "no tensors") { try SafetensorsFile().tensor("w", shape: []) }
    }

    func testWriterRejectsDuplicateAndReservedNames() {
        let t = Tensor(1)
        assertThrows(.invalidArgument, containing: "two tensors are called 'a'") {
            try SafetensorsFile(tensors: [("a", t), ("b", t), ("a", t)]).serialized()
        }
        assertThrows(.invalidArgument, containing: "__metadata__") {
            try SafetensorsFile(tensors: [("__metadata__", t)]).write(to: self.dir + "/reserved.safetensors")
        }
        XCTAssertNotEqual(access(dir + "/reserved.safetensors", F_OK), 0)
        XCTAssertNotEqual(access(dir + "/reserved.safetensors.tmp", F_OK), 0)
        assertThrows(.io, containing: "cannot create") {
            try SafetensorsFile(tensors: [("a", t)]).write(to: self.dir + "/no/such/dir/x.safetensors")
        }
    }

    // MARK: Byte-exact against the specification

    /// Files written out by hand from the format description: u64 little-endian header
    /// length, compact JSON header padded with spaces to a multiple of 8, F32 little-endian data.
    func testWriterMatchesHandWrittenFiles() throws {
        // One tensor, header of exactly 64 bytes: no padding.
        let a = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
        XCTAssertEqual(a.utf8.count, 64)
        let aData: [UInt8] = [0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xA0, 0x40]
        let aBytes: [UInt8] = [64, 0, 0, 0, 0, 0, 0, 0] + Array(a.utf8) + aData
        let aFile = SafetensorsFile(tensors: [("attn.0", Tensor(shape: [1, 2, 3], scalars: [0, 1, 2, 3, 4, 5]))])
        XCTAssertEqual(try aFile.serialized(), aBytes)
        XCTAssertEqual(try SafetensorsFile(bytes: aBytes, name: "a").tensor("attn.0", shape: [1, 2, 3]).scalars, [0, 1, 2, 3, 4, 5])

        // A 65-byte header padded with 7 spaces to 72.
        let b = #"{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}"# + "       "
        XCTAssertEqual(b.utf8.count, 72)
        let bBytes: [UInt8] = [72, 0, 0, 0, 0, 0, 0, 0] + Array(b.utf8) + aData
        XCTAssertEqual(try SafetensorsFile(tensors: [("attn0", Tensor(shape: [1, 1, 2, 3], scalars: [0, 1, 2, 3, 4, 5]))]).serialized(), bBytes)

        // No tensors: "{}" and six spaces.
        XCTAssertEqual(try SafetensorsFile().serialized(), [8, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20])

        // Metadata first, then tensors in the given order with consecutive offsets; a scalar
        // has shape []; escapes in metadata strings. Header: 156 bytes + 4 spaces = 160.
        let c = #"{"__metadata__":{"a\"b":"c\\d\n\u0001é","v":"1"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"s":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}"# + "    "
        XCTAssertEqual(c.utf8.count, 160)
        let cBytes: [UInt8] = [160, 0, 0, 0, 0, 0, 0, 0] + Array(c.utf8)
            + [0, 0, 0x80, 0xBF, /* -1 */ 0, 0, 0, 0x80, /* -0 */ 0, 0, 0x20, 0x41 /* 10 */]
        let cFile = SafetensorsFile(tensors: [("w", Tensor(shape: [2], scalars: [-1, -0.0])), ("s", Tensor(10))],
                                    metadata: ["v": "1", "a\"b": "c\\d\n\u{1}é"])
        XCTAssertEqual(try cFile.serialized(), cBytes)
        let cRead = try SafetensorsFile(bytes: cBytes, name: "c")
        XCTAssertEqual(cRead.metadata, ["v": "1", "a\"b": "c\\d\n\u{1}é"])
        XCTAssertEqual(bits(cRead["w"]), [0xBF80_0000, 0x8000_0000])
        XCTAssertEqual(cRead["s"]?.shape, [])
        XCTAssertEqual(cRead["s"]?.scalars, [10])
    }

    /// Files other writers may produce: whitespace in the header, tensors listed out of
    /// offset order, zero-size tensors, header length not a multiple of 8.
    func testReadsValidVariants() throws {
        let h = "{ \"b\" : {\"shape\": [1], \"data_offsets\": [4, 8], \"dtype\": \"F32\"},\n\t\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[8,8]}, \"__metadata__\": {} }\r\n"
        let f = try SafetensorsFile(bytes: file(h, le([1, 2])), name: "v")
        XCTAssertEqual(f.tensors.map(\.name), ["b", "a", "z"], "header order is kept")
        XCTAssertEqual(f["a"]?.scalars, [1])
        XCTAssertEqual(f["b"]?.scalars, [2])
        XCTAssertEqual(f["z"]?.shape, [0, 5])
        XCTAssertEqual(f.metadata, [:])
        // Unicode escapes in names decode.
        let g = try SafetensorsFile(bytes: file(#"{"\u00e9\ud83d\ude00":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#, le([3])), name: "g")
        XCTAssertEqual(g.tensors.map(\.name), ["é😀"])
    }

    // MARK: Rejections

    func testRejectsEveryTruncation() throws {
        let good = try sample()
        let headerEnd = 8 + Int(good[0]) + Int(good[1]) << 8
        XCTAssertNoThrow(try SafetensorsFile(bytes: good, name: "good"))
        for length in 0..<good.count {
            let fragment = length < 8 ? "too short" : length < headerEnd ? "exceeds" : "truncated"
            assertThrows(.format, containing: "'cut\(length)': ") { try SafetensorsFile(bytes: Array(good[0..<length]), name: "cut\(length)") }
            assertThrows(.format, containing: fragment) { try SafetensorsFile(bytes: Array(good[0..<length]), name: "cut\(length)") }
        }
        let path = dir + "/cut.safetensors"
        writeFile(path, Array(good.dropLast(3)))
        // From a file, the size is checked against the header before the data are read.
        assertThrows(.format, containing: "'\(path)': the file holds 33 bytes of tensor data, its header describes 36") {
            try SafetensorsFile(contentsOf: path)
        }
    }

    func testRejectsFlippedHeaderBytes() throws {
        let good = try sample()
        let headerEnd = 8 + Int(good[0])
        let text = String(decoding: good[8..<headerEnd], as: UTF8.self)
        // Bytes inside names and metadata text can change without making the file invalid
        // (the format has no checksum); every other byte of the length and header matters.
        var free = Set<Int>()
        for s in ["\"w\"", "\"b\"", "\"kind\"", "\"mlp\""] {
            let r = text.firstRange(of: s)!
            let start = 8 + text.utf8.distance(from: text.startIndex, to: r.lowerBound)
            free.formUnion((start + 1)..<(start + s.utf8.count - 1))
        }
        for position in 0..<headerEnd {
            for mask: UInt8 in [0x01, 0x02, 0x10, 0x80] {
                var bad = good
                bad[position] ^= mask
                if free.contains(position) && mask != 0x80 { continue }
                assertThrows(.format, containing: "'flip': ") { try SafetensorsFile(bytes: bad, name: "flip") }
            }
        }
        // A few with their messages.
        func flipped(_ from: String, _ to: String) -> [UInt8] {
            let h = String(decoding: good[8..<headerEnd], as: UTF8.self).replacingFirst(from, with: to)
            return Array(good[0..<8]) + Array(h.utf8) + good[headerEnd...]
        }
        assertThrows(.format, containing: "header is not valid UTF-8") {
            var bad = good
            bad[12] = 0xFF
            return try SafetensorsFile(bytes: bad, name: "f")
        }
        assertThrows(.format, containing: "header is not valid JSON: expected a value, found '}' at byte") {
            try SafetensorsFile(bytes: flipped("\"mlp\"", "}mlp\""), name: "f")
        }
        assertThrows(.format, containing: "header is not valid JSON: unexpected '!' after the JSON value") {
            try SafetensorsFile(bytes: flipped("}}  ", "}}! "), name: "f")
        }
        assertThrows(.format, containing: "tensor 'w' has dtype \"F33\"; only F32 is supported") {
            try SafetensorsFile(bytes: flipped("F32", "F33"), name: "f")
        }
        assertThrows(.format, containing: "tensor 'w': unexpected key \"shapf\"") {
            try SafetensorsFile(bytes: flipped("shape", "shapf"), name: "f")
        }
        assertThrows(.format, containing: "tensor 'w': data_offsets [0, 24] span 24 bytes but shape [3, 3] of F32 needs 36") {
            try SafetensorsFile(bytes: flipped("[2,3]", "[3,3]"), name: "f")
        }
    }

    func testRejectsBadHeaderStructure() throws {
        let one = "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"
        func check(_ header: String, _ fragment: String, data: [UInt8] = [0, 0, 0, 0], line: UInt = #line) {
            assertThrows(.format, containing: fragment, line: line) { try SafetensorsFile(bytes: self.file(header, data), name: "h") }
        }
        check("[]", "header is an array, not a JSON object", data: [])
        check("", "header is not valid JSON: expected a value, found end of input at byte 0", data: [])
        check("{\"a\":{\(one)},}", "trailing comma in object")
        check("{\"a\":{\(one)}} x", "unexpected 'x' after the JSON value")
        check("{\"a\":{\(one)}}\0", "unexpected byte 0x00")
        check("{\"a\":[]}", "tensor 'a': entry is an array, not an object")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'a': missing \"data_offsets\"")
        check("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a': missing \"dtype\"")
        check("{\"a\":{\(one),\"extra\":1}}", "tensor 'a': unexpected key \"extra\"")
        check("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", "tensor 'a' has dtype \"F16\"; only F32 is supported")
        check("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "has dtype \"f32\"")
        check("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a': dtype is a number, not a string")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "shape must be an array of non-negative integers, got [-1]")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", "shape must be an array of non-negative integers")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "shape must be an array")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", "non-negative integers")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", "implausibly large")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got [4,0]")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "data_offsets must be [begin, end]")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", "data_offsets must be [begin, end]")
        check("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "tensor 'a': data_offsets [0, 4] span 4 bytes but shape [2] of F32 needs 8")
        check("{\"a\":{\(one)},\"a\":{\(one)}}", "header is not valid JSON: duplicate key \"a\"")
        check("{\"__metadata__\":{\"k\":1},\"a\":{\(one)}}", "metadata value for key 'k' is a number, not a string")
        check("{\"__metadata__\":{\"k\":null},\"a\":{\(one)}}", "metadata value for key 'k' is null, not a string")
        check("{\"__metadata__\":[\"k\"],\"a\":{\(one)}}", "\"__metadata__\" is an array, not an object of strings")
        check("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"},\"a\":{\(one)}}", "duplicate key \"k\"")
    }

    func testRejectsBadLayoutOfTheDataSection() {
        func tensor(_ name: String, _ count: Int, _ begin: Int) -> String {
            "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(count)],\"data_offsets\":[\(begin),\(begin + 4 * count)]}"
        }
        func check(_ entries: [String], data: Int, _ fragment: String, line: UInt = #line) {
            let bytes = file("{" + entries.joined(separator: ",") + "}", [UInt8](repeating: 0, count: data))
            assertThrows(.format, containing: fragment, line: line) { try SafetensorsFile(bytes: bytes, name: "d") }
        }
        check([tensor("a", 2, 0), tensor("b", 2, 4)], data: 12, "tensors 'a' [0, 8] and 'b' [4, 12] overlap")
        check([tensor("b", 2, 4), tensor("a", 2, 0)], data: 12, "tensors 'a' [0, 8] and 'b' [4, 12] overlap")
        check([tensor("a", 2, 0), tensor("b", 2, 0)], data: 8, "overlap")
        check([tensor("a", 2, 0), tensor("z", 0, 4)], data: 8, "tensors 'a' [0, 8] and 'z' [4, 4] overlap")
        check([tensor("a", 1, 0), tensor("b", 1, 8)], data: 12, "bytes 4..<8 of the data section belong to no tensor (a gap before 'b')")
        check([tensor("a", 1, 4)], data: 8, "bytes 0..<4 of the data section belong to no tensor")
        check([tensor("a", 2, 0)], data: 12, "4 trailing bytes after the last tensor")
        check([], data: 1, "1 trailing bytes")
        check([tensor("a", 2, 0)], data: 4, "tensor 'a': data_offsets [0, 8] run past the end of the 4-byte data section")
        check([tensor("a", 1, 1 << 40)], data: 4, "run past the end")
    }

    func testRejectsAbsurdHeaderLengths() throws {
        let good = try sample()
        var huge = good
        for k in 0..<8 { huge[k] = 0xFF }
        assertThrows(.format, containing: "header length 18446744073709551615 is absurd") { try SafetensorsFile(bytes: huge, name: "x") }
        var big = good
        big[0...7] = [0x01, 0xE1, 0xF5, 0x05, 0, 0, 0, 0]  // 100 000 001
        assertThrows(.format, containing: "header length 100000001 is absurd") { try SafetensorsFile(bytes: big, name: "x") }
        var long = good
        long[0...7] = [0x00, 0x10, 0, 0, 0, 0, 0, 0]  // 4096, longer than the file
        assertThrows(.format, containing: "header length 4096 exceeds the \(good.count - 8) bytes after the length field") {
            try SafetensorsFile(bytes: long, name: "x")
        }
        assertThrows(.format, containing: "'x': 7 bytes is too short") { try SafetensorsFile(bytes: [8, 0, 0, 0, 0, 0, 0], name: "x") }
    }

    func testMissingFileAndDirectoryAreIOErrors() {
        assertThrows(.io, containing: "cannot open '\(dir)/missing.safetensors': No such file") {
            try SafetensorsFile(contentsOf: self.dir + "/missing.safetensors")
        }
        assertThrows(.io, containing: "directory") { try SafetensorsFile(contentsOf: self.dir) }
    }

    // MARK: JSON

    private func parse(_ s: String) throws -> JSONValue { try JSONValue.parse(Array(s.utf8)) }

    private func assertRejects(_ s: String, _ fragment: String, line: UInt = #line) {
        do {
            let v = try parse(s)
            XCTFail("accepted \(s.debugDescription) as \(v)", line: line)
        } catch let e as JSONParseError {
            XCTAssertTrue(e.description.contains(fragment), "'\(e)' lacks '\(fragment)'", line: line)
        } catch {
            XCTFail("unexpected \(error)", line: line)
        }
    }

    func testJSONParsesNestingNumbersAndLiterals() throws {
        let v = try parse(" {\"a\" : [1, [2, {\"b\": null}], true, false, -3, 1.5e2, -0.25, \"x\"], \"c\": {}, \"d\": []}\n")
        XCTAssertEqual(v, .object([
            (key: "a", value: .array([.integer(1), .array([.integer(2), .object([(key: "b", value: .null)])]),
                                      .bool(true), .bool(false), .integer(-3), .number(150), .number(-0.25), .string("x")])),
            (key: "c", value: .object([])),
            (key: "d", value: .array([])),
        ]))
        XCTAssertEqual(v["d"], .array([]))
        XCTAssertNil(v["e"])
        XCTAssertEqual(try parse("0"), .integer(0))
        XCTAssertEqual(try parse("9223372036854775807"), .integer(.max))
        XCTAssertEqual(try parse("9223372036854775808"), .number(9223372036854775808))
        XCTAssertEqual(try parse("1.0"), .number(1))
        XCTAssertEqual(try parse("2E-3"), .number(0.002))
        XCTAssertEqual(try parse("\"\""), .string(""))
        // Order of members is kept and distinguishes objects.
        XCTAssertNotEqual(try parse("{\"a\":1,\"b\":2}"), try parse("{\"b\":2,\"a\":1}"))
        // 64 levels are fine, 65 are not.
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        assertRejects(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "nesting deeper than 64 levels")
        assertRejects(String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65), "nesting deeper than 64")
        assertRejects(String(repeating: "[", count: 100_000), "nesting deeper than 64")
    }

    func testJSONStringEscapes() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00 é😀""#),
                       .string("a\"b\\c/d\u{8}\u{C}\n\r\tAé€😀 é😀"))
        assertRejects(#""\ud83d""#, "unpaired surrogate \\ud83d")
        assertRejects(#""\ud83dx""#, "unpaired surrogate")
        assertRejects(#""\ud83d\u0041""#, "unpaired surrogate")
        assertRejects(#""\ude00""#, "unpaired surrogate \\ude00")
        assertRejects(#""\x""#, "invalid escape \\'x'")
        assertRejects(#""\u12""#, "four hex digits")
        assertRejects(#""\u12G4""#, "four hex digits")
        assertRejects("\"a\nb\"", "unescaped control character U+000a")
        assertRejects("\"abc", "unterminated string at byte 0")
        assertRejects("\"abc\\", "unterminated string")
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xC3, 0x22]))  // a lone UTF-8 lead byte
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]))  // an encoded surrogate

        // The writer escapes what must be escaped and reads back to the same string.
        let s = "q\"b\\s/ \u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F} é😀"
        XCTAssertEqual(JSONValue.string(s).serializedText, #""q\"b\\s/ \u0000\u0001\b\t\n\f\r\u001f"# + "\u{7F} é😀\"")
        XCTAssertEqual(try JSONValue.parse(JSONValue.string(s).serialized()), .string(s))
        let doc = JSONValue.object([(key: "k\"", value: .array([.integer(-1), .null, .bool(true), .number(0.5), .string("")])),
                                    (key: "", value: .object([]))])
        XCTAssertEqual(doc.serializedText, #"{"k\"":[-1,null,true,0.5,""],"":{}}"#)
        XCTAssertEqual(try JSONValue.parse(doc.serialized()), doc)
    }

    func testJSONRejectsMalformedInput() {
        assertRejects("", "expected a value, found end of input at byte 0")
        assertRejects("   ", "end of input")
        assertRejects("[1,]", "trailing comma in array at byte 3")
        assertRejects("{\"a\":1,}", "trailing comma in object")
        assertRejects("[,1]", "expected a value, found ','")
        assertRejects("{,}", "expected a string key, found ','")
        assertRejects("{} x", "unexpected 'x' after the JSON value at byte 3")
        assertRejects("{}{}", "unexpected '{' after the JSON value")
        assertRejects("[1 2]", "expected ',' or ']' in array, found '2'")
        assertRejects("{\"a\" 1}", "expected ':' after an object key, found '1'")
        assertRejects("{\"a\":1 \"b\":2}", "expected ',' or '}' in object")
        assertRejects("{a:1}", "expected a string key, found 'a'")
        assertRejects("{'a':1}", "expected a string key")
        assertRejects("{\"a\":1,\"a\":2}", "duplicate key \"a\" at byte 7")
        assertRejects("[1", "unterminated array")
        assertRejects("{\"a\":1", "unterminated object")
        assertRejects("tru", "invalid literal (expected 'true')")
        assertRejects("nul1", "invalid literal")
        assertRejects("True", "expected a value, found 'T'")
        assertRejects("NaN", "expected a value")
        assertRejects("Infinity", "expected a value")
        assertRejects("-Infinity", "expected a digit")
        assertRejects("01", "leading zero")
        assertRejects("-01", "leading zero")
        assertRejects("1.", "expected a digit after '.'")
        assertRejects(".5", "expected a value")
        assertRejects("+1", "expected a value")
        assertRejects("-", "expected a digit in number, found end of input")
        assertRejects("1e", "expected a digit in exponent")
        assertRejects("1e400", "number 1e400 is out of range")
        assertRejects("[1] // comment", "unexpected '/'")
        assertRejects("\u{FEFF}{}", "expected a value, found byte 0xef")
    }
}

private extension String {
    /// `self` with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = firstRange(of: target) else {
            XCTFail("'\(target)' not in '\(self)'")
            return self
        }
        return String(self[..<r.lowerBound]) + replacement + String(self[r.upperBound...])
    }
}

/// Readers check what the format lets them check before reading on: devices and FIFOs are
/// refused, and a file whose size disagrees with its header is rejected without reading it.
final class BoundedReadingTests: XCTestCase {
    func testDevicesAreRefusedNotReadForever() throws {
        assertThrows(.io, containing: "not a regular file") { try SafetensorsFile(contentsOf: "/dev/zero") }
        assertThrows(.io, containing: "not a regular file") { try LearnedOptimiserFile.read("/dev/zero") }
        assertThrows(.io, containing: "not a regular file") { try IDXArray(contentsOf: "/dev/zero") }
        assertThrows(.io, containing: "directory") { try SafetensorsFile(contentsOf: "/tmp") }
    }

    func testAHugeSparseFileIsRejectedByItsHeaderAlone() throws {
        let path = temporaryDirectory() + "/sparse.safetensors"
        let small = SafetensorsFile(tensors: [("x", Tensor(shape: [2], scalars: [1, 2]))])
        try small.write(to: path)
        // Now 2 GB long without 2 GB written: the header describes 8 bytes of data.
        XCTAssertEqual(truncate(path, 2_000_000_000), 0)
        func peakResidentKB() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss
        }
        let before = peakResidentKB()
        assertThrows(.format, containing: "header describes 8") { try SafetensorsFile(contentsOf: path) }
        XCTAssertLessThan(peakResidentKB() - before, 100_000, "rejected without reading the 2 GB into memory")
        XCTAssertEqual(truncate(path, 7), 0)
        assertThrows(.format) { try SafetensorsFile(contentsOf: path) }
    }
}
