//! Where the API token may travel: the one rule for every HTTP client of this
//! crate that carries it (the [`crate::Client`] and the contract harness).
//!
//! - `https://` to any host, through the proxies the environment names
//!   (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`): a proxy only relays the TLS
//!   tunnel and never sees the token.
//! - plain `http://` only to this machine (`localhost`, `127.0.0.0/8`, `::1`),
//!   and then never through a proxy: `HTTP_PROXY` / `ALL_PROXY` would otherwise
//!   receive the token in clear text, whatever the URL's host says.
//! - never a base URL with user-info (reqwest would turn it into Basic auth
//!   that replaces the token), a query or a fragment.
//! - no redirects: the token goes to the base URL's host and nowhere else.
//!
//! TLS (feature `rustls`, the default) is rustls with the `ring` provider and
//! the operating system's certificate verifier, handed to reqwest as a ready
//! `ClientConfig`: no C crypto library is built and no process-wide rustls
//! provider is installed behind the application's back. Feature `native-tls`
//! (without `rustls`) uses reqwest's native-tls backend instead.

use crate::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use url::Url;

/// Parses a base URL and checks it against the rules above. Error messages
/// never echo the URL, which may hold a password.
pub(crate) fn checked_base_url(raw: &str) -> Result<Url, Error> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("the base URL is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "the base URL holds user-info (`user:password@`); remove it: the API token \
             is the only credential sent"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(
            "the base URL holds a query or a fragment; give scheme, host, port and path only"
                .to_owned(),
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| Error::Config("the base URL has no host".to_owned()))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        "http" => Err(Error::InsecureTransport {
            host: host.to_owned(),
        }),
        other => Err(Error::Config(format!(
            "the base URL has scheme `{other}`; use https"
        ))),
    }
}

/// `raw` for display: a URL with user-info loses it (`***@` in its place).
pub(crate) fn redacted(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_password(None);
            let _ = url.set_username("***");
            url.to_string()
        }
        Ok(_) => raw.to_owned(),
        Err(_) if raw.contains('@') => "<a base URL that is not a URL>".to_owned(),
        Err(_) => raw.to_owned(),
    }
}

/// `localhost` or a loopback IP literal. Anything else (`127.0.0.1.example.com`,
/// `localhost.example.com`) is a name that DNS may send anywhere.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A reqwest builder with this crate's TLS (see the module docs), for an
/// `https://` base (`verify`: the system's roots) or a plain-http one (no TLS
/// connection is ever made: no roots are loaded). Every reqwest client of the
/// crate starts here: with feature `rustls`, reqwest has no provider of its own
/// and a builder that skipped this would fail to build.
pub(crate) fn tls_builder(verify: bool) -> Result<reqwest::ClientBuilder, Error> {
    let builder = reqwest::Client::builder();
    #[cfg(feature = "rustls")]
    let builder = builder.tls_backend_preconfigured(rustls_config(verify)?);
    #[cfg(not(feature = "rustls"))]
    let _ = verify;
    Ok(builder)
}

/// A reqwest client builder with this crate's TLS (rustls with `ring`, the
/// system's certificate verifier), for a reqwest client of your own, as
/// [`crate::api::Client::new_with_client`] takes: with feature `rustls`, reqwest
/// is built without a crypto provider, so `reqwest::Client::new()` panics
/// unless the application installs one.
///
/// ```
/// let http = sela_leads::http_client_builder()?.build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, Error> {
    tls_builder(true)
}

/// The rustls config of [`tls_builder`]: ring, TLS 1.2 and 1.3, ALPN for
/// HTTP/2 and 1.1 (reqwest sets none on a preconfigured config).
#[cfg(feature = "rustls")]
fn rustls_config(verify: bool) -> Result<rustls::ClientConfig, Error> {
    use std::sync::Arc;
    let tls_error = |e: rustls::Error| Error::Config(format!("TLS setup: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let with_roots = if verify {
        let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(|e| {
            Error::Config(format!(
                "TLS setup: cannot load the system's root certificates: {e}"
            ))
        })?;
        versions
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    } else {
        versions.with_root_certificates(rustls::RootCertStore::empty())
    };
    let mut config = with_roots.with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A reqwest builder for requests that carry the token to `base` (already
/// checked by [`checked_base_url`]): this crate's TLS, no proxy and `localhost`
/// pinned to the loopback addresses for plain http, no redirects.
pub(crate) fn builder_for(base: &Url) -> Result<reqwest::ClientBuilder, Error> {
    let mut builder =
        tls_builder(base.scheme() == "https")?.redirect(reqwest::redirect::Policy::none());
    if base.scheme() == "http" {
        builder = builder.no_proxy();
        if let Some(host) = base
            .host_str()
            .filter(|h| h.eq_ignore_ascii_case("localhost"))
        {
            let port = base.port_or_known_default().unwrap_or(80);
            let addrs = [
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
            ];
            builder = builder.resolve_to_addrs(host, &addrs);
        }
    }
    Ok(builder)
}

/// A `reqwest::ClientBuilder` for a client that will carry the API token to
/// `raw_base`: the base URL is checked as [`Client::new`](crate::Client::new)
/// checks it, and the builder follows no redirect and sends nothing to another
/// host. For callers that keep their own URL type (the contract harness).
pub fn token_client_builder(raw_base: &str) -> Result<reqwest::ClientBuilder, Error> {
    builder_for(&checked_base_url(raw_base)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_redacted_for_display() {
        assert_eq!(
            redacted("https://ana:hunter2@api.trysela.com/"),
            "https://***@api.trysela.com/"
        );
        assert_eq!(redacted("http://127.0.0.1:1/"), "http://127.0.0.1:1/");
        assert!(!redacted("ht!tp://a:hunter2@x").contains("hunter2"));
    }

    #[test]
    fn loopback_is_judged_on_the_host_not_on_a_prefix() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "127.0.0.1.example.com",
            "localhost.example.com",
            "localhost.",
            "example.com",
            "10.0.0.1",
            "[::ffff:10.0.0.1]",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
