import CZlib
import Foundation
import Glibc
import L2L
import Synchronization
import XCTest

/// A new, empty directory under /tmp for one test's files; it and its contents are removed
/// when the test process exits.
public func temporaryDirectory() -> String {
    var template = Array("/tmp/l2l-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    temporaryDirectories.withLock { directories in
        if directories.isEmpty { atexit { removeTemporaryDirectories() } }
        directories.append(path)
    }
    return path
}

/// Every directory `temporaryDirectory()` made in this process.
private let temporaryDirectories = Mutex<[String]>([])

/// Removes every directory `temporaryDirectory()` made (called once, at exit).
private func removeTemporaryDirectories() {
    for path in temporaryDirectories.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
}

/// Writes `bytes` to `path`, gzip-compressed when `gzip` is true.
public func writeFile(_ path: String, _ bytes: [UInt8], gzip: Bool = false) {
    if gzip {
        let f = gzopen(path, "wb")!
        _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
    } else {
        let f = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}

/// The bytes of an IDX file: magic (0, 0, type, rank), big-endian dimensions, `payload`.
public func idxBytes(type: UInt8, shape: [Int], payload: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for d in shape { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return bytes + payload
}

/// Asserts that `body` throws an `L2LError` of `kind` whose message contains `fragment`.
public func assertThrows<T>(_ kind: L2LError.Kind, containing fragment: String = "",
                            file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected an error of kind \(kind)", file: file, line: line)
    } catch let e as L2LError {
        XCTAssertEqual(e.kind, kind, "message: \(e.message)", file: file, line: line)
        XCTAssertTrue(fragment.isEmpty || e.message.contains(fragment), "message '\(e.message)' lacks '\(fragment)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
