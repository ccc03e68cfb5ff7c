/// A setting spelled as one of a few names. Decoding any other name fails with a message that
/// lists the names, instead of the standard library's "Cannot initialize … from invalid String
/// value …", which a recipe's author cannot act on.
public protocol NamedChoice: RawRepresentable, CaseIterable, Decodable where RawValue == String {}

extension NamedChoice {
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: name) else {
            let names = Self.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(name)' is not one of \(names)"))
        }
        self = value
    }
}
