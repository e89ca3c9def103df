/// Meta-training checkpoints: everything a run needs to continue exactly as if it had not
/// stopped — φ, Adam's moments and step count, the RNG's position, the counters, history,
/// events and the rollback point — taken between trials, saved as `.safetensors`.
extension MetaTrainer {
    /// The trainer's state between trials as a safetensors file.
    public func checkpoint() -> SafetensorsFile {
        var tensors = [(name: String, tensor: Tensor)]()
        let names = optimiser.metaParameterSpecs.map(\.name)
        func add(_ prefix: String, _ list: [Tensor]) {
            for (n, t) in zip(names, list) { tensors.append((prefix + n, t)) }
        }
        add("meta.", meta); add("adam.m.", adamState.m); add("adam.v.", adamState.v)
        add("good.meta.", lastGood.meta); add("good.m.", lastGood.adam.m); add("good.v.", lastGood.adam.v)
        tensors.append(("history", Tensor(shape: [history.count], scalars: history)))
        let state = rng.state
        return SafetensorsFile(tensors: tensors, metadata: [
            "format": "l2l.meta_checkpoint",
            "kind": optimiser.kind,
            "options": optimiser.options,
            "config": config.options,
            "l2l_version": Library.version,
            "rng": "\(state.seed) \(state.counter) \(state.lane)",
            "counters": "\(trialsDone) \(metaSteps) \(adamState.step) \(lastGood.adam.step) \(consecutiveSkips)",
            "events": events.map { "\($0.kind.rawValue):\($0.trial):\($0.step)" }.joined(separator: ";"),
            "crc32": String(dataChecksum(tensors.map(\.tensor))),
        ])
    }

    /// Writes ``checkpoint()`` to `path` atomically.
    public func saveCheckpoint(to path: String) throws { try checkpoint().write(to: path) }

    /// A trainer resumed from a checkpoint: the same optimiser (kind and options), tasks and
    /// configuration as the run that wrote it, or the checkpoint is rejected.
    public convenience init(resuming path: String, optimiser: any LearnedOptimiser, tasks: [MetaTask],
                            config: MetaTrainingConfig) throws {
        let file = try SafetensorsFile(contentsOf: path)
        func field(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw L2LError.format("'\(path)': not an l2l meta-training checkpoint (no '\(key)')") }
            return v
        }
        guard try field("format") == "l2l.meta_checkpoint" else { throw L2LError.format("'\(path)': not an l2l meta-training checkpoint") }
        guard try field("kind") == optimiser.kind, try field("options") == optimiser.options else {
            throw L2LError.invalid("'\(path)' is a checkpoint of \(file.metadata["kind"] ?? "?") (\(file.metadata["options"] ?? "")), not of \(optimiser.kind) (\(optimiser.options))")
        }
        guard try field("config") == config.options else {
            throw L2LError.invalid("'\(path)' was written with meta-training options '\(file.metadata["config"] ?? "")', not '\(config.options)'")
        }
        let specs = optimiser.metaParameterSpecs
        func list(_ prefix: String) throws -> [Tensor] { try specs.map { try file.tensor(prefix + $0.name, shape: $0.shape) } }
        let meta = try list("meta.")
        try self.init(optimiser, tasks: tasks, config: config, meta: meta)
        let counters = try field("counters").split(separator: " ").compactMap { Int($0) }
        let rngParts = try field("rng").split(separator: " ")
        guard counters.count == 5, counters.allSatisfy({ $0 >= 0 }), rngParts.count == 3,
              let seed = UInt64(rngParts[0]), let counter = UInt64(rngParts[1]), let lane = Int(rngParts[2]),
              (0...4).contains(lane), lane == 4 || counter > 0
        else { throw L2LError.format("'\(path)': corrupt counters or RNG state") }
        guard let history = file["history"], history.rank == 1 else { throw L2LError.format("'\(path)': no history") }
        var all = [Tensor]()
        for prefix in ["meta.", "adam.m.", "adam.v.", "good.meta.", "good.m.", "good.v."] { all += try list(prefix) }
        all.append(history)
        guard try field("crc32") == String(dataChecksum(all)) else {
            throw L2LError.format("'\(path)': tensor data do not match their checksum (the file was altered)")
        }
        var events = [MetaEvent]()
        for item in try field("events").split(separator: ";") {
            let parts = item.split(separator: ":")
            guard parts.count == 3, let kind = MetaEvent.Kind(rawValue: String(parts[0])), let t = Int(parts[1]), let s = Int(parts[2]) else {
                throw L2LError.format("'\(path)': corrupt event '\(item)'")
            }
            events.append(MetaEvent(kind: kind, trial: t, step: s))
        }
        adamState = Adam.State(step: counters[2], m: try list("adam.m."), v: try list("adam.v."))
        lastGood = (try list("good.meta."), Adam.State(step: counters[3], m: try list("good.m."), v: try list("good.v.")))
        rng = RNG(state: (seed, counter, lane))
        trialsDone = counters[0]
        metaSteps = counters[1]
        consecutiveSkips = counters[4]
        self.history = history.scalars
        self.events = events
    }
}
