import ArgumentParser
import CrashIsolation
import Export

@main
struct Trainset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainset",
        abstract: "Turn bioimaging datasets from added-value databases into reproducible HDF5 training bundles.",
        discussion: """
            A recipe (YAML, specs/recipe/v1.md) names the inputs: an IDR-style annotation table or a glob \
            of images, label columns or masks, the channels to keep, and the tile grid. `export` plans the \
            whole job, writes the bundle under a temporary name, validates it and only then moves it into \
            place, next to a <bundle>.manifest.json sidecar.

            Start with a sample:
              trainset export samples/dsb2018-nuclei/recipe.yaml
              trainset validate samples/dsb2018-nuclei/out/dsb2018-nuclei.h5
              trainset inspect samples/dsb2018-nuclei/out/dsb2018-nuclei.h5
            """,
        version: ToolInfo.version,
        subcommands: [ExportCommand.self, PlanCommand.self, MergeCommand.self, SlurmCommand.self, ValidateCommand.self, InspectCommand.self, VerifyCommand.self,
                      DiffCommand.self, ReplayCommand.self, ReportCommand.self, SchemaCommand.self, LabelsCommand.self])

    /// Every command runs in a supervised child process, so that a C library crashing on a damaged
    /// input file ends in one error line naming that file rather than a segfault (see `Supervisor`).
    static func main() {
        Supervisor.superviseOrContinue()
        main(nil)
    }
}
