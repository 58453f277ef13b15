// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import TrailCore

/// Digest files, key names and signatures as `aws cloudtrail validate-logs` reads them.
struct ArchiveDigestTests {
    static let layout = ArchiveLayout(
        accountID: "123456789012", region: "eu-west-1", trailName: "e2e-trail", bucket: "fleet-trail", prefix: "/audit/")
    static let end = Int64(TrailTime.parseISO8601("2026-11-25T05:00:00Z")!.timeIntervalSince1970)

    @Test func keysFollowCloudTrailsLayout() {
        #expect(
            Self.layout.digestKey(end: Self.end)
                == "audit/AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/11/25/123456789012_CloudTrail-Digest_eu-west-1_e2e-trail_eu-west-1_20261125T050000Z.json.gz"
        )
        #expect(
            Self.layout.logFileKey(delivered: Self.end + 59, unique: "Mu0KsOhtH1ar15ZZ")
                == "audit/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/25/123456789012_CloudTrail_eu-west-1_20261125T0500Z_Mu0KsOhtH1ar15ZZ.json.gz"
        )
        // validate-logs reads the time from characters [-24:-8] of the key.
        let key = Self.layout.digestKey(end: Self.end)
        #expect(String(key.dropLast(8).suffix(16)) == "20261125T050000Z")
        #expect(ArchiveLayout.digestEnd(ofKey: key) == Self.end)
        #expect(ArchiveLayout.digestEnd(ofKey: "x_20261325T050000Z.json.gz") == nil)
        #expect(ArchiveLayout.digestEnd(ofKey: "short.json.gz") == nil)
        var generator = SystemRandomNumberGenerator()
        let unique = ArchiveLayout.uniqueString(using: &generator)
        #expect(unique.count == 16 && unique.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }

    @Test func keysFromDigestsAndListingsStayInsideTheArchive() {
        #expect(ArchiveLayout.isContained("AWSLogs/1/CloudTrail/r/2026/11/25/x.json.gz"))
        for key in ["", "/etc/passwd", "AWSLogs/../../etc/passwd", "AWSLogs//x", "./AWSLogs/x", "AWSLogs/x/..", "AWSLogs/."] {
            #expect(!ArchiveLayout.isContained(key), "\(key)")
        }
    }

    @Test func aBucketCredentialsFileIsOneLineOfTwoWords() throws {
        let key = try AccessKeys.parseCredentialsFile("# moto\n\n  AKIDEXAMPLE   s3cr3t/with+chars \n")
        #expect(key.id == "AKIDEXAMPLE" && key.secret == "s3cr3t/with+chars")
        for text in ["", "AKID", "AKID SECRET extra", "A B\nC D\n"] {
            #expect(throws: AccessKeys.ParseError.self) { try AccessKeys.parseCredentialsFile(text) }
        }
    }

    @Test func aDigestWritesAndReadsBackWithCloudTrailsNulls() throws {
        let first = DigestFile(
            accountID: "123456789012", startTime: Self.end - 3600, endTime: Self.end, bucket: "fleet-trail", key: "k1", publicKeyFingerprint: "f",
            previous: nil, logFiles: [])
        let json = try JSONValue.parse(first.json())
        // The first digest of a chain: every previousDigest* member an explicit null; no log files, no event times.
        for name in [
            "previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm", "previousDigestSignature",
            "oldestEventTime", "newestEventTime",
        ] {
            #expect(json[name] == .null, "\(name)")
        }
        #expect(json["logFiles"] == .array([]))
        #expect(json["digestEndTime"] == "2026-11-25T05:00:00Z")
        #expect(json["digestSignatureAlgorithm"] == "SHA256withRSA")
        #expect(try DigestFile(json: first.json()) == first)

        let second = DigestFile(
            accountID: "123456789012", startTime: Self.end, endTime: Self.end + 3600, bucket: "fleet-trail", key: "k2", publicKeyFingerprint: "f",
            previous: .init(bucket: "fleet-trail", key: "k1", sha256: String(repeating: "a", count: 64), signature: "beef"),
            logFiles: [
                .init(
                    bucket: "fleet-trail", key: "l1", sha256: String(repeating: "b", count: 64), oldestEventTime: Self.end + 1,
                    newestEventTime: Self.end + 9)
            ])
        let parsed = try JSONValue.parse(second.json())
        #expect(parsed["previousDigestHashAlgorithm"] == "SHA-256")
        #expect(parsed["oldestEventTime"] == "2026-11-25T05:00:01Z" && parsed["newestEventTime"] == "2026-11-25T05:00:09Z")
        #expect(try DigestFile(json: second.json()) == second)
        #expect(
            second.stringToSign(digestSHA256: "cd") == "2026-11-25T06:00:00Z\nfleet-trail/k2\ncd\nbeef")
        #expect(first.stringToSign(digestSHA256: "cd").hasSuffix("\nnull"))
    }

    @Test func malformedDigestsAreNamedNotTrapped() {
        for (text, member) in [
            ("[]", "not a JSON object"), ("{}", "awsAccountId"),
            (#"{"awsAccountId":"1","digestStartTime":"yesterday"}"#, "digestStartTime"),
            (
                #"{"awsAccountId":"1","digestStartTime":"2026-11-25T05:00:00Z","digestEndTime":"2026-11-25T05:00:00Z","digestS3Bucket":"b","digestS3Object":"o","digestPublicKeyFingerprint":"f","previousDigestS3Object":"p","logFiles":[]}"#,
                "previousDigest"
            ),
            (
                #"{"awsAccountId":"1","digestStartTime":"2026-11-25T05:00:00Z","digestEndTime":"2026-11-25T05:00:00Z","digestS3Bucket":"b","digestS3Object":"o","digestPublicKeyFingerprint":"f","logFiles":[7]}"#,
                "logFiles[0]"
            ),
            ("\u{1F}\u{8B}", "not JSON"),
        ] {
            #expect(throws: DigestFormatError.self) { try DigestFile(json: Array(text.utf8)) }
            do {
                _ = try DigestFile(json: Array(text.utf8))
            } catch {
                #expect("\(error)".contains(member), "\(error)")
            }
        }
    }

    /// Signed by python-rsa, the library `validate-logs` verifies with; fingerprint from hashlib.md5 of the DER.
    @Test func aSignatureFromPythonRSAVerifiesAndTheFingerprintIsAWSs() throws {
        let der = Data(
            base64Encoded:
                "MIIBCgKCAQEAq22KWRFzk0BCz/nKmZmosrjWFZ4CwSDIpr61GnbB6/2nePIBp33WOeoXmnf/uGO4FmMiPpLyEO3Q25kOxq4xQ1IxUrB5HFryTdyslIZi4xkCHs73Wujeyk17FuyZ4/i1sSGg8ooonGwyslxp0lOqi4rOA568adZ9Mv6ey4oCeJIryqtl5Go6Xw7uLCU+i8i2Sezn1ghSsbJmQXyl9FbasmHsPSkKeyoX8OVkZLUAvQgbGPcqAsu0r2/Evlk38fJWv//5ih+XTWX53YMxYGro4Mocy+cDjeJ1qv+Pj6pAJqw53y+SZG8Y9BbVeFWQK1t47JcDcs2X7RPkwp1auAv3yQIDAQAB"
        )!
        let key = try DigestPublicKey(derRepresentation: der)
        #expect(key.fingerprint == "ca56727612071a01c2c45a835c9afaa6")
        #expect(key.pkcs1DER == der)
        let text = DigestFile.stringToSign(
            endTime: "2026-11-25T05:00:00Z", bucket: "hosttrail",
            key:
                "AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/11/25/123456789012_CloudTrail-Digest_eu-west-1_e2e-trail_eu-west-1_20261125T050000Z.json.gz",
            digestSHA256: String(repeating: "ab", count: 32), previousSignature: nil)
        let signature =
            "3432c33d416d9f72262d5c43a613e63bed2e5fd7c1f859ab8eb721c94ab63648e7542e355cf54d76ca9f4be0e0319da5c87cd0c637a647e74f000315a63b0bc5787248c0e4b8ca0e89cd7f5baa9b14577722410a968b46f5eb3475300b2c25a2d6eaf4d30decce0a30365892d66ff58121d198ab174a4631b3d542042074557d9f95959907bdd4919b9b22991ba2cc1d6719b0f6e79b5a5ed92bd70d9ab1ce0aeeef3d2d075c8a87758ba7de30f9701eebff5968633cc9d441bcf082e42d42838dd32b9420352e98408503ee9d11120d9d18735deb9b814faf28215d706ffe939617fb926cefd6774132802e1945e2ce1e6b95b2521fd4daf38813c3a8405eed"
        #expect(key.verify(signatureHex: signature, of: text))
        #expect(!key.verify(signatureHex: signature, of: text + " "))
        #expect(!key.verify(signatureHex: "zz", of: text))
        #expect(!key.verify(signatureHex: String(signature.dropLast(2)) + "00", of: text))
    }

    @Test func ourSignatureVerifiesOnlyWithOurKey() throws {
        let key = try DigestSigningKey.generate()
        let other = try DigestSigningKey.generate()
        let signature = try key.sign("digest")
        #expect(key.publicKey.verify(signatureHex: signature, of: "digest"))
        #expect(!other.publicKey.verify(signatureHex: signature, of: "digest"))
        #expect(key.publicKey.fingerprint != other.publicKey.fingerprint && key.publicKey.fingerprint.count == 32)
        // The PEM files the collector writes read back as the same keys.
        let reread = try DigestSigningKey(pemRepresentation: key.pemRepresentation)
        #expect(reread.publicKey.fingerprint == key.publicKey.fingerprint)
        #expect(try DigestPublicKey(pemRepresentation: key.publicKey.pemRepresentation).fingerprint == key.publicKey.fingerprint)
        // RSA PKCS#1 v1.5 is deterministic: a digest rewritten after a crash has the same signature.
        #expect(try key.sign("digest") == signature)
    }
}
