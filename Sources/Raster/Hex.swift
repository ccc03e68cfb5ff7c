/// Lower-case hexadecimal of `bytes`, two digits per byte, as digests are written everywhere in
/// a bundle (SHA-256 fields, tile keys, pseudonyms). A lookup table instead of
/// `String(format:)`: tile keys are made for every augmented row, and formatting each byte cost
/// about 30 small allocations.
public func lowercaseHex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits: StaticString = "0123456789abcdef"
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    digits.withUTF8Buffer { table in
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}
