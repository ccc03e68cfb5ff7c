import AVDB
import BundleFormat

/// The citation and licence facts of an IDR study file that a published training set should
/// carry. Person e-mail addresses and postal addresses in the study file are left out on
/// purpose: they are personal data and nothing downstream needs them.
enum StudyFacts {
    static func make(_ study: IDRStudy) -> Manifest.Study {
        // Publication columns are parallel: the i-th title, author list, DOI and PubMed ID
        // describe the same paper; empty cells are kept in place so the columns stay aligned.
        let titles = study.values(for: "Study Publication Title")
        let authors = study.values(for: "Study Author List")
        let dois = study.values(for: "Study DOI")
        let pubmed = study.values(for: "Study PubMed ID")
        func cell(_ values: [String], _ i: Int) -> String? {
            values.indices.contains(i) && !values[i].isEmpty ? values[i] : nil
        }
        let publications = titles.indices.compactMap { i -> Manifest.Study.Publication? in
            guard let title = cell(titles, i) else { return nil }
            return .init(title: title, authors: cell(authors, i) ?? "", doi: cell(dois, i), pubmedID: cell(pubmed, i))
        }
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        return Manifest.Study(
            accession: nonEmpty(study.accession), title: nonEmpty(study.title),
            description: nonEmpty(study.studyDescription), license: nonEmpty(study.license),
            licenseURL: nonEmpty(study.licenseURL), copyright: nonEmpty(study.copyright),
            releaseDate: nonEmpty(study.publicReleaseDate), externalURL: nonEmpty(study.value(for: "Study External URL")),
            dataDOI: nonEmpty(study.dataDOI), publications: publications)
    }
}
