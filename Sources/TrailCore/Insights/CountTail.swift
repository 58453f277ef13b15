// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Tail probabilities of a per-minute count under its baseline: Poisson with the baseline's mean,
/// or negative binomial (same mean, the baseline's variance) when the counts vary more than a
/// Poisson's would (cron bursts, batch jobs). Computed term by term in log space, so large counts
/// neither overflow nor lose the tail.
enum CountTail {
    /// P(X ≥ `count`) for a baseline of `mean` and `variance` per minute.
    static func upper(_ count: Int, mean: Double, variance: Double) -> Double {
        guard count > 0 else { return 1 }
        guard mean > 0 else { return 0 }  // anything above a baseline of nothing
        let model = Model(mean: mean, variance: variance)
        // Terms after the mode fall: sum from `count` on until they stop mattering.
        var logTerm = model.logProbability(count)
        var total = 0.0
        var index = count
        while true {
            let term = exp(logTerm)
            total += term
            if term < total * 1e-12 || index - count > 100_000 { break }
            index += 1
            logTerm += model.logRatio(to: index)
        }
        return min(1, total)
    }

    /// P(X ≤ `count`) for a baseline of `mean` and `variance` per minute.
    static func lower(_ count: Int, mean: Double, variance: Double) -> Double {
        guard mean > 0 else { return 1 }
        let model = Model(mean: mean, variance: variance)
        var logTerm = model.logProbability(0)
        var total = exp(logTerm)
        var index = 0
        while index < count {
            index += 1
            logTerm += model.logRatio(to: index)
            total += exp(logTerm)
        }
        return min(1, total)
    }

    /// log P(X = 0): a minute without a count, under the same model.
    static func logProbabilityOfNone(mean: Double, variance: Double) -> Double {
        Model(mean: mean, variance: variance).logProbability(0)
    }

    /// Poisson, or negative binomial by the method of moments.
    struct Model {
        let mean: Double
        /// Negative binomial's `r` and `log(1 - p)`; `nil` for Poisson.
        let negativeBinomial: (r: Double, logP: Double, logQ: Double)?

        init(mean: Double, variance: Double) {
            self.mean = mean
            if variance > mean * 1.05 {
                let r = mean * mean / (variance - mean)
                let p = r / (r + mean)
                negativeBinomial = (r, log(p), log(1 - p))
            } else {
                negativeBinomial = nil
            }
        }

        /// log P(X = k).
        func logProbability(_ k: Int) -> Double {
            if let (r, logP, logQ) = negativeBinomial {
                return Self.logGamma(Double(k) + r) - Self.logGamma(r) - Self.logGamma(Double(k) + 1) + r * logP + Double(k) * logQ
            }
            return -mean + Double(k) * log(mean) - Self.logGamma(Double(k) + 1)
        }

        /// log(P(X = k) / P(X = k - 1)).
        func logRatio(to k: Int) -> Double {
            if let (r, _, logQ) = negativeBinomial { return log((Double(k) - 1 + r) / Double(k)) + logQ }
            return log(mean / Double(k))
        }

        static func logGamma(_ x: Double) -> Double { lgamma(x) }
    }
}
