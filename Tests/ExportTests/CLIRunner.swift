import Foundation
import Testing

/// What one run of the `trainset` executable printed and returned.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Suites that run the built `trainset` executable, which SwiftPM places next to the test
/// bundle (`swift build --build-tests` builds both).
protocol CLIRunning {}

extension CLIRunning {
    static var executable: URL? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("trainset")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs `trainset arguments…` in `directory`; records an issue when the executable is missing.
    func run(_ arguments: [String], in directory: URL) throws -> CLIRun {
        guard let executable = Self.executable else {
            Issue.record("trainset executable not found next to \(CommandLine.arguments[0]); run swift build --build-tests")
            return CLIRun(status: -1, stdout: "", stderr: "")
        }
        return try launch(executable, arguments, in: directory)
    }

    /// Runs any program to completion, with `environment` added to this process's, and collects its output.
    func launch(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                environment: [String: String] = [:]) throws -> CLIRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}
