@testable import L2LTensor
import L2LTestSupport
import XCTest

final class BufferCacheTests: XCTestCase {
    func testBucketsAreAQuarterOctaveApartAndNeverSmaller() {
        let kib = 1 << 10
        XCTAssertEqual(BufferCache.bucket(1000), 1000, "small requests are not rounded")
        XCTAssertEqual(BufferCache.bucket(512 * kib), 512 * kib)
        XCTAssertEqual(BufferCache.bucket(512 * kib + 1), 640 * kib)
        XCTAssertEqual(BufferCache.bucket(700 * kib), 768 * kib)
        XCTAssertEqual(BufferCache.bucket(1000 * kib), 1024 * kib)
        for request in stride(from: 256 * kib, to: 64 << 20, by: 77_777) {
            let b = BufferCache.bucket(request)
            XCTAssertGreaterThanOrEqual(b, request)
            XCTAssertLessThanOrEqual(Double(b), 1.25 * Double(request) + 1)
        }
    }

    func testLargeBuffersAreReusedAndCanBeReleased() {
        BufferCache.releaseAll()
        let n = 1 << 20   // 4 MiB of floats
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor(repeating: 1, shape: [n])
            first = t.storage.pointer
        }
        XCTAssertGreaterThanOrEqual(BufferCache.cachedBytes, 4 << 20)
        let again = Tensor(repeating: 2, shape: [n - 5])   // same bucket
        XCTAssertEqual(again.storage.pointer, first, "the freed buffer is handed out again")
        XCTAssertEqual(again.sum().scalar, Float(2 * (n - 5)))
        BufferCache.releaseAll()
        XCTAssertEqual(BufferCache.cachedBytes, 0)
    }
}
