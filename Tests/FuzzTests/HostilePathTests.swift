import Export
import Foundation
import Testing

/// File references in recipes and tables stay inside the dataset root: `..`, absolute paths
/// and symbolic links that leave it are refused with an error naming the file (issue 8).
@Suite struct HostilePathTests {
    /// A workspace whose recipe has `inputs.annotations.file` set to `table`, and a CSV and a
    /// TIFF outside the root (`outside/`), next to `data/`.
    func workspace(table: String = "table.csv") throws -> ExportWorkspace {
        let ws = try ExportWorkspace(recipe: ExportWorkspace.recipe().replacingOccurrences(of: "file: table.csv", with: "file: \(table)"))
        try FileManager.default.createDirectory(at: ws.url("outside"), withIntermediateDirectories: true)
        try Data(ExportWorkspace.table.utf8).write(to: ws.url("outside/table.csv"))
        try FileManager.default.copyItem(at: ws.url("data/images/P1/A01.tif"), to: ws.url("outside/secret.tif"))
        return ws
    }

    func planError(_ ws: ExportWorkspace) -> String? {
        do throws(ExportError) {
            _ = try Planner.plan(recipeAt: ws.url("recipe.yaml"))
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: ["../outside/table.csv", "ABSOLUTE", "link.csv"])
    func tableOutsideTheRootIsRefused(reference: String) throws {
        let ws = try workspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let table = reference == "ABSOLUTE" ? ws.url("outside/table.csv").path : reference
        try Data(ExportWorkspace.recipe().replacingOccurrences(of: "file: table.csv", with: "file: \(table)").utf8)
            .write(to: ws.url("recipe.yaml"))
        try FileManager.default.createSymbolicLink(atPath: ws.url("data/link.csv").path, withDestinationPath: "../outside/table.csv")
        let error = try #require(planError(ws))
        if reference == "link.csv" {
            // Syntactically inside; the link is caught where every input is recorded.
            #expect(error.hasPrefix("\(ws.url("data/link.csv").path): is a symbolic link to "), "\(error)")
            #expect(error.contains("outside the dataset root"), "\(error)")
        } else {
            #expect(error.contains("inputs.annotations.file: '\(table)' is outside the input root"), "\(error)")
        }
        #expect(!error.contains("\n"))
    }

    @Test func tableImageThatLinksOutsideTheRootIsRefused() throws {
        let ws = try workspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let image = ws.url("data/images/P1/A02.tif")
        try FileManager.default.removeItem(at: image)
        try FileManager.default.createSymbolicLink(atPath: image.path, withDestinationPath: "../../../outside/secret.tif")
        let error = try #require(planError(ws))
        #expect(error.contains("images/P1/A02.tif"), "\(error)")
        #expect(error.contains("outside the dataset root"), "\(error)")
    }

    @Test func globbedImageThatLinksOutsideTheRootIsRefused() throws {
        let recipe = """
            recipe_version: 1
            dataset: {name: tiny, version: 0.1.0}
            inputs:
              root: data
              images: "images/*/*.tif"
            tiling: {size: 32, stride: 32, edge: drop}
            output: {path: out/tiny.h5}

            """
        let ws = try ExportWorkspace(recipe: recipe)
        defer { try? FileManager.default.removeItem(at: ws.root) }
        _ = try Planner.plan(recipeAt: ws.url("recipe.yaml")) // the recipe is good without the link
        try FileManager.default.createDirectory(at: ws.url("outside"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ws.url("data/images/P1/A01.tif"), to: ws.url("outside/secret.tif"))
        try FileManager.default.createSymbolicLink(atPath: ws.url("data/images/P1/A03.tif").path,
                                                   withDestinationPath: "../../../outside/secret.tif")
        let error = try #require(planError(ws))
        #expect(error.contains("outside/secret.tif"), "\(error)")
        #expect(error.contains("outside the dataset root"), "\(error)")
    }

    @Test func linkThatStaysInsideTheRootIsFollowed() throws {
        let ws = try workspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let image = ws.url("data/images/P1/A02.tif")
        try FileManager.default.removeItem(at: image)
        try FileManager.default.createSymbolicLink(atPath: image.path, withDestinationPath: "A01.tif")
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"))
        #expect(plan.sources.map(\.path) == ["images/P1/A01.tif", "images/P1/A02.tif"])
    }

    /// A workspace whose images have instance masks under `data/masks/`.
    func maskedWorkspace(links: String? = nil) throws -> ExportWorkspace {
        var recipe = ExportWorkspace.recipe().replacingOccurrences(
            of: "    classes: [round, elongated]\n",
            with: "    classes: [round, elongated]\n  instance_masks:\n    file: \"masks/{Well}.tif\"\n")
        if let links { recipe = recipe.replacingOccurrences(of: "  root: data\n", with: "  root: data\n  links_outside_root: \(links)\n") }
        let ws = try workspace()
        try Data(recipe.utf8).write(to: ws.url("recipe.yaml"))
        try FileManager.default.createDirectory(at: ws.url("data/masks"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ws.url("data/images/P1/A01.tif"), to: ws.url("data/masks/A01.tif"))
        try FileManager.default.copyItem(at: ws.url("data/images/P1/A01.tif"), to: ws.url("outside/mask.tif"))
        try FileManager.default.createSymbolicLink(atPath: ws.url("data/masks/A02.tif").path, withDestinationPath: "../../outside/mask.tif")
        return ws
    }

    @Test func maskThatLinksOutsideTheRootIsRefused() throws {
        let ws = try maskedWorkspace()
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let error = try #require(planError(ws))
        #expect(error.hasPrefix("\(ws.url("data/masks/A02.tif").path): is a symbolic link to "), "\(error)")
        #expect(error.contains("inputs.links_outside_root: follow"), "the error should say how to allow it: \(error)")
    }

    /// `inputs.links_outside_root: follow` lets a dataset assembled from links into shared
    /// storage export; the files are hashed like any input and the manifest warns.
    @Test func linksOutsideTheRootAreFollowedWhenTheRecipeSaysSo() throws {
        let ws = try maskedWorkspace(links: "follow")
        defer { try? FileManager.default.removeItem(at: ws.root) }
        let image = ws.url("data/images/P1/A02.tif")
        try FileManager.default.removeItem(at: image)
        try FileManager.default.createSymbolicLink(atPath: image.path, withDestinationPath: "../../../outside/secret.tif")
        let plan = try Planner.plan(recipeAt: ws.url("recipe.yaml"))
        #expect(plan.sources.map(\.path) == ["images/P1/A01.tif", "images/P1/A02.tif"])
        #expect(plan.inputs.contains { $0.path == "masks/A02.tif" && $0.role == "instance_mask" })
        #expect(plan.warnings.contains { $0.hasPrefix("inputs.links_outside_root: follow: 2 input files are read through symbolic links") },
                "\(plan.warnings)")
        let misspelled = try maskedWorkspace(links: "sometimes")
        defer { try? FileManager.default.removeItem(at: misspelled.root) }
        #expect(planError(misspelled)?.contains("inputs.links_outside_root") == true)
    }
}
