// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
    import Glibc
#endif

/// The process's descriptor limit (`RLIMIT_NOFILE`'s soft value, which systemd's `LimitNOFILE=`
/// sets): what the connection caps must stay below.
public enum DescriptorLimit {
    public static func current() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(clamping: min(limit.rlim_cur, rlim_t(Int.max / 2)))  // RLIM_INFINITY is all ones
    }
}
