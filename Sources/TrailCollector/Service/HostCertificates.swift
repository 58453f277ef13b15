// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// Each host's client certificate expiry as last seen on its connections (in memory: a host
/// delivers every few minutes, so a restarted collector knows it again soon).
final class HostCertificates: Sendable {
    private let expiries = Mutex<[String: Date]>([:])

    func note(_ certificate: ClientCertificate) {
        guard let expiry = certificate.notValidAfter else { return }
        expiries.withLock { $0[certificate.commonName] = expiry }
    }

    func expiry(of host: String) -> Date? { expiries.withLock { $0[host] } }
}
