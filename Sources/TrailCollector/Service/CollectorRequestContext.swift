// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import NIOCore

/// Hummingbird's request context plus the connection, whose TLS handler knows the client certificate.
struct CollectorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
