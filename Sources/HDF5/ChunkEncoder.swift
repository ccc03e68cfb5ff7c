internal import CISAL
internal import CZLIB

/// Filters a chunk exactly as a dataset's shuffle → deflate → Fletcher-32 pipeline would, so
/// that the stored bytes can be produced on any thread and written with
/// `Dataset.writeRawChunk` (HDF5's `H5Dwrite_chunk`) by the one thread that owns the file.
///
/// Readers decode such chunks with HDF5's built-in filters: the shuffle is HDF5's byte
/// transposition, the deflate stream a standard zlib stream, the checksum HDF5's Fletcher-32.
/// Only the deflate encoder differs from the library's (see `deflateEncoder(level:)`), and so
/// only the compressed bytes, never the decoded data.
///
/// Not thread-safe (it reuses scratch buffers): give each thread its own encoder.
public final class ChunkEncoder {
    /// The pipeline being reproduced.
    public let layout: DatasetLayout
    /// Bytes per element, which the shuffle transposes by.
    public let elementSize: Int

    private var shuffled: [UInt8] = []
    /// Where the deflate encoders write, sized for their worst case (about the input's size).
    private var compressed = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    // ISA-L's stream (about 100 KB of state) and its level buffer, allocated once per encoder.
    private let isalStream: UnsafeMutablePointer<isal_zstream>?
    private let isalLevelBuffer: UnsafeMutableRawPointer?

    /// An encoder for chunks of a dataset with `layout` whose elements are `elementSize` bytes.
    /// - Precondition: `layout` is chunked and its deflate level, if any, is 0–9.
    public init(layout: DatasetLayout, elementSize: Int) {
        precondition(layout.chunks != nil, "only chunks are filtered")
        precondition(elementSize >= 1, "element size must be positive")
        if let level = layout.deflateLevel { precondition((0...9).contains(level), "deflate level \(level) is not 0–9") }
        self.layout = layout
        self.elementSize = elementSize
        let usesISAL = layout.deflateLevel.map(Self.usesISAL) ?? false
        isalStream = usesISAL ? .allocate(capacity: 1) : nil
        isalLevelBuffer = usesISAL ? .allocate(byteCount: Int(cisal_level_buffer_size()), alignment: 64) : nil
    }

    deinit {
        isalStream?.deallocate()
        isalLevelBuffer?.deallocate()
        compressed.deallocate()
    }

    /// The encoder behind a recipe's deflate level, as recorded in a bundle's manifest:
    /// level 0 stores (deflate "stored" blocks, as zlib level 0 does); levels 1–3 use ISA-L's
    /// igzip, which on image tiles compresses as well as zlib level 1 at several times its
    /// speed; levels 4–9 use zlib itself at that level, for callers who ask for a smaller file.
    public static func deflateEncoder(level: Int) -> String {
        switch level {
        case 0: "stored blocks (no compression)"
        case 1...3:
            "isa-l \(cisal_version() >> 16).\((cisal_version() >> 8) & 0xFF).\(cisal_version() & 0xFF) igzip level \(cisal_level())"
        default: "zlib \(String(cString: zlibVersion())) level \(level)"
        }
    }

    private static func usesISAL(_ level: Int) -> Bool { (1...3).contains(level) }

    /// The bytes HDF5 would store for a chunk whose unfiltered bytes are `bytes`.
    /// Throws `.libraryFailure` only when an encoder fails (out of memory).
    /// - Precondition: `bytes` is not empty (a chunk holds at least one element).
    public func encode(_ bytes: UnsafeRawBufferPointer) throws(HDF5Error) -> [UInt8] {
        precondition(!bytes.isEmpty, "a chunk holds at least one element")
        var out: [UInt8]
        if layout.shuffle && elementSize > 1 && bytes.count / elementSize > 1 {
            shuffle(bytes)
            out = try shuffled.withUnsafeBytes { deflated($0) }.get()
        } else {
            out = try deflated(bytes).get()
        }
        if layout.fletcher32 {
            let sum = out.withUnsafeBytes { Fletcher32.checksum($0) }
            out.append(contentsOf: [UInt8(sum & 0xFF), UInt8((sum >> 8) & 0xFF), UInt8((sum >> 16) & 0xFF), UInt8(sum >> 24)])
        }
        return out
    }

    /// HDF5's shuffle: byte j of element i goes to position j·n + i; a trailing partial
    /// element is copied as it is.
    private func shuffle(_ bytes: UnsafeRawBufferPointer) {
        let size = elementSize, n = bytes.count / size
        if shuffled.count != bytes.count { shuffled = [UInt8](repeating: 0, count: bytes.count) }
        shuffled.withUnsafeMutableBytes { out in
            let src = bytes.assumingMemoryBound(to: UInt8.self).baseAddress!
            let dst = out.assumingMemoryBound(to: UInt8.self).baseAddress!
            // One pass over the input for the common sizes, one per byte plane otherwise. The
            // common sizes take 16 elements at a time: narrowing a SIMD vector of them keeps
            // one byte of each (little-endian, so byte j is the element shifted by 8·j), which
            // the compiler turns into a few vector instructions instead of 16 byte moves.
            // Index arithmetic is unchecked (it stays below bytes.count).
            let vectors = n / 16
            switch size {
            case 2:
                for k in 0..<vectors {
                    let v = UnsafeRawPointer(src + 32 &* k).loadUnaligned(as: SIMD16<UInt16>.self)
                    UnsafeMutableRawPointer(dst + 16 &* k).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v), as: SIMD16<UInt8>.self)
                    UnsafeMutableRawPointer(dst + (n &+ 16 &* k))
                        .storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v &>> 8), as: SIMD16<UInt8>.self)
                }
                for i in (16 * vectors)..<n {
                    dst[i] = src[2 &* i]
                    dst[n &+ i] = src[2 &* i &+ 1]
                }
            case 4:
                for k in 0..<vectors {
                    let v = UnsafeRawPointer(src + 64 &* k).loadUnaligned(as: SIMD16<UInt32>.self)
                    for j in 0..<4 {
                        UnsafeMutableRawPointer(dst + (j &* n &+ 16 &* k))
                            .storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v &>> UInt32(8 &* j)), as: SIMD16<UInt8>.self)
                    }
                }
                for i in (16 * vectors)..<n {
                    dst[i] = src[4 &* i]
                    dst[n &+ i] = src[4 &* i &+ 1]
                    dst[2 &* n &+ i] = src[4 &* i &+ 2]
                    dst[3 &* n &+ i] = src[4 &* i &+ 3]
                }
            default:
                for j in 0..<size {
                    for i in 0..<n { dst[j * n + i] = src[i * size + j] }
                }
            }
            for k in (n * size)..<bytes.count { dst[k] = src[k] }
        }
    }

    /// The deflated bytes (the input itself without deflate), as a `Result` because the
    /// standard library's buffer closures do not carry typed throws.
    private func deflated(_ input: UnsafeRawBufferPointer) -> Result<[UInt8], HDF5Error> {
        guard let level = layout.deflateLevel else { return .success(Array(input)) }
        switch level {
        case 0: return .success(Self.stored(input))
        case 1...3: return Result { () throws(HDF5Error) in try isal(input) }
        default: return Result { () throws(HDF5Error) in try zlib(input, level: level) }
        }
    }

    /// The `count` bytes an encoder wrote to `compressed`, in an array of their own size (plus
    /// room for the checksum). A finished chunk waits for the writer in the export's reorder
    /// window, and one holding the encoder's worst-case capacity would take about four times
    /// its bytes there.
    private func finished(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count + 4) { out, initialized in
            _ = out.initialize(from: UnsafeBufferPointer(rebasing: compressed[..<count]))
            initialized = count
        }
    }

    /// `compressed`, with room for at least `capacity` bytes.
    private func scratch(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        if compressed.count < capacity {
            compressed.deallocate()
            compressed = .allocate(capacity: capacity)
        }
        return compressed.baseAddress!
    }

    /// A zlib stream of stored blocks (at most 65 535 bytes each).
    private static func stored(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        out.reserveCapacity(input.count + 5 * (input.count / 65_535 + 1) + 10)
        var start = 0
        repeat {
            let count = min(65_535, input.count - start)
            let last = start + count == input.count
            out += [last ? 1 : 0, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += input[start..<(start + count)]
            start += count
        } while start < input.count
        let adler = isal_adler32(1, input.assumingMemoryBound(to: UInt8.self).baseAddress, UInt64(input.count))
        out += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        return out
    }

    private func isal(_ input: UnsafeRawBufferPointer) throws(HDF5Error) -> [UInt8] {
        // Room for the stored-block fallback ISA-L takes when the data does not compress.
        let capacity = input.count + 5 * (input.count / 65_535 + 1) + 64
        let buffer = scratch(capacity)
        let stream = isalStream!
        isal_deflate_stateless_init(stream)
        stream.pointee.level = UInt32(cisal_level())
        stream.pointee.level_buf = isalLevelBuffer!.assumingMemoryBound(to: UInt8.self)
        stream.pointee.level_buf_size = cisal_level_buffer_size()
        stream.pointee.gzip_flag = UInt16(IGZIP_ZLIB)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: UInt8.self).baseAddress)
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = buffer
        stream.pointee.avail_out = UInt32(capacity)
        stream.pointee.end_of_stream = 1
        stream.pointee.flush = cisal_no_flush()
        let rc = isal_deflate_stateless(stream)
        guard rc == COMP_OK else {
            throw HDF5Error(code: .libraryFailure, message: "the deflate encoder (ISA-L) failed with status \(rc)")
        }
        return finished(Int(stream.pointee.total_out))
    }

    private func zlib(_ input: UnsafeRawBufferPointer, level: Int) throws(HDF5Error) -> [UInt8] {
        let bound = Int(compressBound(uLong(input.count)))
        var length = uLongf(bound)
        let rc = compress2(scratch(bound), &length, input.assumingMemoryBound(to: UInt8.self).baseAddress, uLong(input.count),
                           Int32(level))
        guard rc == czlib_ok() else {
            throw HDF5Error(code: .libraryFailure, message: "the deflate encoder (zlib) failed with status \(rc)")
        }
        return finished(Int(length))
    }
}

/// HDF5's Fletcher-32 (`H5_checksum_fletcher32`): 16-bit words read big-endian, an odd last
/// byte as the high byte of a word, both sums folded every 360 words; stored after the chunk
/// little-endian.
public enum Fletcher32 {
    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var sum1: UInt32 = 0, sum2: UInt32 = 0
        let data = bytes.assumingMemoryBound(to: UInt8.self)
        var words = bytes.count / 2, p = 0
        while words > 0 {
            // HDF5 folds the sums every 360 words (the most for which sum2 cannot pass 2³²).
            // Where it folds decides whether a sum ≡ 0 comes out as 0 or 0xFFFF, so the blocks stay.
            let block = min(words, 360), groups = block / 8
            words -= block
            if groups > 0 {
                // Eight words at a time: lane k sums its words (a1) and its running sums (a2), and
                // the block adds Σw to sum1 and n·sum1 + Σᵢ(n − i + 1)·wᵢ = n·sum1 + 8·Σa2 − Σₖk·a1ₖ
                // to sum2: the integers the word-by-word loop adds, modulo 2³² as its adds wrap.
                var a1 = SIMD8<UInt32>(), a2 = SIMD8<UInt32>()
                for g in 0..<groups {
                    let raw = UnsafeRawPointer(data.baseAddress! + p + 16 * g).loadUnaligned(as: SIMD16<UInt8>.self)
                    a1 &+= SIMD8<UInt32>(truncatingIfNeeded: raw.evenHalf) &<< 8 | SIMD8<UInt32>(truncatingIfNeeded: raw.oddHalf)
                    a2 &+= a1
                }
                let n = UInt32(groups * 8), lane = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
                sum2 = sum2 &+ n &* sum1 &+ 8 &* a2.wrappedSum() &- (lane &* a1).wrappedSum()
                sum1 &+= a1.wrappedSum()
                p += 16 * groups
            }
            for _ in 0..<(block - groups * 8) {
                sum1 &+= UInt32(data[p]) << 8 | UInt32(data[p + 1])
                sum2 &+= sum1
                p += 2
            }
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
        }
        if bytes.count % 2 == 1 {
            sum1 &+= UInt32(data[p]) << 8
            sum2 &+= sum1
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
        }
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
        return sum2 << 16 | sum1
    }

    /// Whether a stored chunk's last four bytes are the checksum of the bytes before them.
    public static func verifies(_ storedChunk: UnsafeRawBufferPointer) -> Bool {
        guard storedChunk.count >= 4 else { return false }
        let n = storedChunk.count - 4
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(storedChunk[n + $1]) << (8 * $1) }
        return checksum(UnsafeRawBufferPointer(rebasing: storedChunk[0..<n])) == stored
    }
}
