#pragma once

#include <string>

#include "core/blocking.hpp"
#include "core/http_client.hpp"
#include "vector/vector.hpp"

namespace msg::vector {

/// The built-in embedder: character bigrams and trigrams of the normalised text
/// (search::normalize, with a space on both sides), each hashed (FNV-1a) to a signed bucket of
/// a fixed-dimension vector, then L2-normalised. Deterministic and cheap. It measures *lexical*
/// similarity — shared spellings, Korean stems with different particles — not meaning:
/// "배포" and "deploy" are unrelated to it. An external model (HttpEmbedder) gives semantics.
class HashedNgramEmbedder final : public Embedder {
  public:
    /// With a pool, embed() runs there (STYLE 11); without, inline (tests, one-shot commands).
    explicit HashedNgramEmbedder(std::size_t dimension = 256,
                                 core::BlockingPool* blocking = nullptr)
        : dimension_(dimension), blocking_(blocking) {}
    std::size_t dimension() const override { return dimension_; }
    core::Task<std::vector<Vector>> embed(const std::vector<std::string>& texts) override;
    Vector embed_one(std::string_view text) const;

  private:
    std::size_t dimension_;
    core::BlockingPool* blocking_;
};

/// An OpenAI-compatible `/v1/embeddings` endpoint (EMBEDDING_ENDPOINT, EMBEDDING_MODEL,
/// EMBEDDING_API_KEY): `{"model","input":[...]}` → `data[i].embedding`. A vector of another
/// dimension than configured, a non-2xx answer or a malformed body is an error.
class HttpEmbedder final : public Embedder {
  public:
    struct Options {
        std::string endpoint;  // base URL; "/v1/embeddings" is appended unless present
        std::string model;
        std::string api_key;  // sent as a bearer token when set; never logged
        std::size_t dimension = 256;
    };
    HttpEmbedder(core::HttpClient& http, Options options);
    std::size_t dimension() const override { return options_.dimension; }
    core::Task<std::vector<Vector>> embed(const std::vector<std::string>& texts) override;

  private:
    core::HttpClient& http_;
    Options options_;
    std::string url_;
};

}  // namespace msg::vector
