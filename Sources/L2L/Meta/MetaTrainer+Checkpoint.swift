/// Meta-training checkpoints: everything a run needs to continue exactly as if it had not
/// stopped — φ, the meta-optimiser's state, the RNG's position, the counters, history,
/// events and the rollback point — taken between trials, saved as `.safetensors`.
extension MetaTrainer {
    /// The trainer's state between trials as a safetensors file.
    public func checkpoint() -> SafetensorsFile {
        let saved = metaStep.saved
        var tensors = [(name: String, tensor: Tensor)]()
        let names = optimiser.metaParameterSpecs.map(\.name)
        func add(_ prefix: String, _ list: [Tensor]) {
            for (n, t) in zip(names, list) { tensors.append((prefix + n, t)) }
        }
        add("meta.", saved.meta)
        for (slot, list) in saved.slots.sorted(by: { $0.key < $1.key }) { add("opt.\(slot).", list) }
        add("good.meta.", saved.good.meta)
        for (slot, list) in saved.good.slots.sorted(by: { $0.key < $1.key }) { add("good.opt.\(slot).", list) }
        tensors.append(("history", Tensor(shape: [history.count], scalars: history)))
        let state = rng.state
        return SafetensorsFile(tensors: tensors, metadata: [
            "format": "l2l.meta_checkpoint",
            "kind": optimiser.kind,
            "options": optimiser.options,
            "config": config.options,
            "l2l_version": Library.version,
            "rng": "\(state.seed) \(state.counter) \(state.lane)",
            "counters": "\(trialsDone) \(saved.applied) \(saved.step) \(saved.good.step) \(saved.consecutiveSkips)",
            "slots": saved.slots.keys.sorted().joined(separator: ","),
            "events": saved.events.map { "\($0.kind.rawValue):\($0.trial):\($0.step)" }.joined(separator: ";"),
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
        let slotNames = try field("slots").split(separator: ",").map(String.init)
        func slots(_ prefix: String) throws -> [String: [Tensor]] {
            Dictionary(uniqueKeysWithValues: try slotNames.map { ($0, try list(prefix + $0 + ".")) })
        }
        try self.init(optimiser, tasks: tasks, config: config, meta: try list("meta."))
        let counters = try field("counters").split(separator: " ").compactMap { Int($0) }
        let rngParts = try field("rng").split(separator: " ")
        guard counters.count == 5, counters.allSatisfy({ $0 >= 0 }), rngParts.count == 3,
              let seed = UInt64(rngParts[0]), let counter = UInt64(rngParts[1]), let lane = Int(rngParts[2]),
              (0...4).contains(lane), lane == 4 || counter > 0
        else { throw L2LError.format("'\(path)': corrupt counters or RNG state") }
        guard let history = file["history"], history.rank == 1 else { throw L2LError.format("'\(path)': no history") }
        // Counters a run with this configuration can reach: trials done, updates applied (one
        // per history entry at most), the meta-optimiser's steps (at most one per update; the
        // rollback point's at most the current), consecutive skips (below rollback_after).
        guard counters[0] <= config.trials, counters[1] <= history.count, counters[2] <= counters[1],
              counters[3] <= counters[2], counters[4] < config.rollbackAfter
        else { throw L2LError.format("'\(path)': counters \(counters) are impossible for this configuration (the file was altered)") }
        var all = try list("meta.")
        for slot in slotNames.sorted() { all += try list("opt.\(slot).") }
        all += try list("good.meta.")
        for slot in slotNames.sorted() { all += try list("good.opt.\(slot).") }
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
        try metaStep.restore(MetaStep.Saved(
            meta: try list("meta."), slots: try slots("opt."), step: counters[2],
            good: (try list("good.meta."), try slots("good.opt."), counters[3]),
            applied: counters[1], consecutiveSkips: counters[4], events: events))
        rng = RNG(state: (seed, counter, lane))
        trialsDone = counters[0]
        self.history = history.scalars
    }
}
