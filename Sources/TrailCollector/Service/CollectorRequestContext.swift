// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import NIOCore

/// Hummingbird's request context, the connection (whose TLS handler knows the client
/// certificate), and what the authentication middleware found out about the caller.
struct CollectorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// The host a `/v1/records` batch comes from: its certificate's CN (``HostAuthentication``).
    var host: String?
    /// What a CloudTrail API caller may read (``CloudTrailAuthentication``).
    var scope: LookupScope = .fleet
    /// The CloudTrail API call's body, read whole by ``CloudTrailAuthentication`` (SigV4 signs it).
    var apiBody = Data()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
