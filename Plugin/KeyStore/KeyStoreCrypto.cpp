#include "KeyStoreCrypto.h"

#include "../Engine/DeidError.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>
#include <vector>

namespace Deid
{
  namespace KeyStoreCrypto
  {
    namespace
    {
      const size_t NONCE_SIZE = 12;
      const size_t TAG_SIZE = 16;

      struct CipherCtxDeleter
      {
        void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
      };

      struct MacDeleter
      {
        void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
      };

      struct MacCtxDeleter
      {
        void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
      };

      struct KdfDeleter
      {
        void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
      };

      struct KdfCtxDeleter
      {
        void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
      };

      void Check(bool ok, const char* what)
      {
        if (!ok)
        {
          throw DeidError(ErrorCode::Crypto, std::string("OpenSSL failure: ") + what);
        }
      }

      const unsigned char* Bytes(const std::string& s)
      {
        return reinterpret_cast<const unsigned char*>(s.data());
      }
    }


    std::string RandomBytes(size_t n)
    {
      std::string result(n, '\0');
      Check(RAND_bytes(reinterpret_cast<unsigned char*>(&result[0]), static_cast<int>(n)) == 1,
            "RAND_bytes");
      return result;
    }


    std::string HmacSha256(const std::string& key, const std::string& data)
    {
      std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
      Check(mac != nullptr, "EVP_MAC_fetch(HMAC)");
      std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
      Check(ctx != nullptr, "EVP_MAC_CTX_new");

      char digest[] = "SHA256";
      OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()
      };
      Check(EVP_MAC_init(ctx.get(), Bytes(key), key.size(), params) == 1, "EVP_MAC_init");
      Check(EVP_MAC_update(ctx.get(), Bytes(data), data.size()) == 1, "EVP_MAC_update");

      unsigned char out[EVP_MAX_MD_SIZE];
      size_t outSize = 0;
      Check(EVP_MAC_final(ctx.get(), out, &outSize, sizeof(out)) == 1, "EVP_MAC_final");
      return std::string(reinterpret_cast<const char*>(out), outSize);
    }


    std::string DeriveKey(const std::string& secret, const std::string& info)
    {
      std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
      Check(kdf != nullptr, "EVP_KDF_fetch(HKDF)");
      std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
      Check(ctx != nullptr, "EVP_KDF_CTX_new");

      char digest[] = "SHA256";
      std::string salt = "OrthancDeidentification";
      OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, &salt[0], salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
        OSSL_PARAM_construct_end()
      };

      std::string key(32, '\0');
      Check(EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(&key[0]), key.size(), params) == 1,
            "EVP_KDF_derive");
      return key;
    }


    std::string Encrypt(const std::string& key, const std::string& plaintext, const std::string& aad)
    {
      Check(key.size() == 32, "AES-256 key size");
      std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
      Check(ctx != nullptr, "EVP_CIPHER_CTX_new");

      std::string nonce = RandomBytes(NONCE_SIZE);
      Check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1, "EncryptInit");
      Check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, NONCE_SIZE, nullptr) == 1, "SET_IVLEN");
      Check(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(nonce)) == 1, "EncryptInit key");

      int len = 0;
      if (!aad.empty())
      {
        Check(EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1, "AAD");
      }

      std::vector<unsigned char> out(plaintext.size() + 16);
      int total = 0;
      Check(EVP_EncryptUpdate(ctx.get(), out.data(), &len, Bytes(plaintext),
                              static_cast<int>(plaintext.size())) == 1, "EncryptUpdate");
      total = len;
      Check(EVP_EncryptFinal_ex(ctx.get(), out.data() + total, &len) == 1, "EncryptFinal");
      total += len;

      unsigned char tag[TAG_SIZE];
      Check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1, "GET_TAG");

      return nonce + std::string(reinterpret_cast<const char*>(out.data()), total) +
        std::string(reinterpret_cast<const char*>(tag), TAG_SIZE);
    }


    std::string Decrypt(const std::string& key, const std::string& sealed, const std::string& aad)
    {
      Check(key.size() == 32, "AES-256 key size");
      if (sealed.size() < NONCE_SIZE + TAG_SIZE)
      {
        throw DeidError(ErrorCode::Crypto, "Encrypted mapping is truncated");
      }

      std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
      Check(ctx != nullptr, "EVP_CIPHER_CTX_new");

      const std::string nonce = sealed.substr(0, NONCE_SIZE);
      const std::string body = sealed.substr(NONCE_SIZE, sealed.size() - NONCE_SIZE - TAG_SIZE);
      std::string tag = sealed.substr(sealed.size() - TAG_SIZE);

      Check(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1, "DecryptInit");
      Check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, NONCE_SIZE, nullptr) == 1, "SET_IVLEN");
      Check(EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key), Bytes(nonce)) == 1, "DecryptInit key");

      int len = 0;
      if (!aad.empty())
      {
        Check(EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1, "AAD");
      }

      std::vector<unsigned char> out(body.size() + 16);
      int total = 0;
      Check(EVP_DecryptUpdate(ctx.get(), out.data(), &len, Bytes(body), static_cast<int>(body.size())) == 1,
            "DecryptUpdate");
      total = len;
      Check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, TAG_SIZE, &tag[0]) == 1, "SET_TAG");
      if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1)
      {
        throw DeidError(ErrorCode::Crypto, "Mapping cannot be decrypted (wrong project secret or altered data)");
      }
      total += len;
      return std::string(reinterpret_cast<const char*>(out.data()), total);
    }


    std::string ToHex(const std::string& bytes)
    {
      static const char digits[] = "0123456789abcdef";
      std::string result;
      result.reserve(bytes.size() * 2);
      for (unsigned char c : bytes)
      {
        result.push_back(digits[c >> 4]);
        result.push_back(digits[c & 0x0f]);
      }
      return result;
    }


    std::string FromHex(const std::string& hex)
    {
      if (hex.size() % 2 != 0)
      {
        throw DeidError(ErrorCode::Storage, "Bad hexadecimal value in the key store");
      }

      auto nibble = [](char c) -> int
      {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw DeidError(ErrorCode::Storage, "Bad hexadecimal value in the key store");
      };

      std::string result;
      result.reserve(hex.size() / 2);
      for (size_t i = 0; i < hex.size(); i += 2)
      {
        result.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
      }
      return result;
    }
  }
}
