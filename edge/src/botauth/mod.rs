//! Web Bot Auth: agents that sign their requests (RFC 9421, Ed25519 or RSA-PSS,
//! `tag="web-bot-auth"`) and publish their keys in a directory at
//! `/.well-known/http-message-signatures-directory` of the origin named by
//! their `Signature-Agent` header (draft-meunier-web-bot-auth-architecture,
//! draft-meunier-http-message-signatures-directory).
//!
//! Pure: parsing, thumbprints, both signature checks and the cache policy.
//! The shell only fetches bytes. A signature that does not verify leaves the
//! request unverified; it is never an error by itself.

mod agent;
mod cache;
mod card;
mod directory;
mod verify;

pub use cache::{cached_directory, DirectoryCache, DirectoryPlan, DirectoryTimings};
pub use directory::{
    directory_components, directory_url, parse_directory, rsa_thumbprint, thumbprint, verify_directory_response, Directory, DirectoryResponse,
};
pub use agent::{claim, parse_signature_agent, AgentEntry, AgentKind, Claim};
pub use card::{parse_card, parse_registry, AgentCard, CardMeta};
pub use verify::{agent_origin, verify_claim, verify_request, Rejection, SignedAgent, SignedRequest, Window};

/// The `tag` of an agent's request signature.
pub const TAG: &str = "web-bot-auth";
/// The `tag` of a directory response signature.
pub const DIRECTORY_TAG: &str = "http-message-signatures-directory";
/// The media type of a key directory (draft-meunier-http-message-signatures-directory).
pub const DIRECTORY_MEDIA_TYPE: &str = "application/http-message-signatures-directory+json";
/// Where an agent publishes its keys, under its `Signature-Agent` origin.
pub const DIRECTORY_PATH: &str = "/.well-known/http-message-signatures-directory";

#[cfg(test)]
mod tests;
