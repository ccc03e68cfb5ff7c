import Crypto
import Foundation
import ImageFormats
import Raster
import Testing

/// Where the test inputs live, found from this file's path so tests run from any directory.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/images")
    /// `<repo>/../shared`, which holds `data/`.
    static let shared = repository.deletingLastPathComponent().appendingPathComponent("shared")
    static let sharedAvailable = FileManager.default.fileExists(atPath: shared.appendingPathComponent("data").path)

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }
    static func sharedFile(_ relative: String) -> URL { shared.appendingPathComponent(relative) }
}

/// One row of Tests/Fixtures/images/reference.json, written by scripts/make_image_fixtures.py.
struct ReferenceEntry: Codable, Sendable, CustomTestStringConvertible {
    var root: String
    var path: String
    var palette: String
    var shape: [Int]
    var dtype: String
    var sha256: String
    var source: String

    var url: URL { root == "shared" ? Paths.sharedFile(path) : Paths.fixture(path) }
    var testDescription: String { "\(path) [\(palette)]" }

    static let all: [ReferenceEntry] = {
        struct File: Codable { var entries: [ReferenceEntry] }
        let url = Paths.fixture("reference.json")
        guard let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return file.entries
    }()
    static let fixtures = all.filter { $0.root == "fixtures" }
    static let shared = all.filter { $0.root == "shared" }
}

extension ImageBuffer {
    /// SHA-256 of the samples in planar order, little-endian (the host order on every platform we build for).
    var sha256: String {
        let digest = switch pixels {
        case .uint8(let v): v.withUnsafeBytes { SHA256.hash(data: $0) }
        case .uint16(let v): v.withUnsafeBytes { SHA256.hash(data: $0) }
        case .float32(let v): v.withUnsafeBytes { SHA256.hash(data: $0) }
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The samples of `rect`, cut out independently of the reader's region code.
    func cropped(_ rect: PixelRect) -> ImageBuffer {
        func cut<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            for c in 0..<channels {
                for y in rect.y..<(rect.y + rect.height) {
                    for x in rect.x..<(rect.x + rect.width) { out.append(v[index(channel: c, y: y, x: x)]) }
                }
            }
            return out
        }
        let data: PixelData = switch pixels {
        case .uint8(let v): .uint8(cut(v))
        case .uint16(let v): .uint16(cut(v))
        case .float32(let v): .float32(cut(v))
        }
        return ImageBuffer(width: rect.width, height: rect.height, channels: channels, pixels: data)
    }
}
