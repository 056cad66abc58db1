// Small OpenSSL helpers of the key store: random bytes, HMAC-SHA256, HKDF key
// derivation and AES-256-GCM for the original side of the mappings.
#pragma once

#include <string>

namespace Deid
{
  namespace KeyStoreCrypto
  {
    // n bytes from OpenSSL RAND_bytes. Throws DeidError(Crypto) on failure.
    std::string RandomBytes(size_t n);

    // HMAC-SHA256(key, data): 32 raw bytes.
    std::string HmacSha256(const std::string& key, const std::string& data);

    // HKDF-SHA256 (RFC 5869) of the project secret for one purpose ("info"):
    // 32 raw bytes. Distinct purposes give independent keys.
    std::string DeriveKey(const std::string& secret, const std::string& info);

    // AES-256-GCM: 12-byte random nonce | ciphertext | 16-byte tag.
    // "aad" is authenticated, not encrypted (binds a ciphertext to its row).
    std::string Encrypt(const std::string& key, const std::string& plaintext, const std::string& aad);

    // Throws DeidError(Crypto) if the key is wrong or the data was altered.
    std::string Decrypt(const std::string& key, const std::string& sealed, const std::string& aad);

    std::string ToHex(const std::string& bytes);
    std::string FromHex(const std::string& hex);   // throws DeidError(Storage) on bad input
  }
}
