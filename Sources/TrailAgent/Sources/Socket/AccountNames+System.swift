// SPDX-License-Identifier: Apache-2.0

import TrailCore

extension AccountNames {
    /// The host's account database (getpwuid_r(3)), asked each time: a uid's name can change, and
    /// only the few records whose line gives a bare uid ask.
    static let system = AccountNames { uid in
        guard let uid = UInt32(exactly: uid) else { return nil }
        return PeerCredentialsResolver.userName(uid: uid)
    }
}
