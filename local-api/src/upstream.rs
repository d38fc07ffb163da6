//! A local service protected the way another API is behind the auth service's Lambda
//! authorizer (`functions/authorizer`): requests to paths under a prefix are checked with the
//! same decision and forwarded to `UPSTREAM_URL`, with who is calling in `X-Auth-*` headers, so
//! a developer can protect a service of their own without AWS.

use std::{sync::Arc, time::Duration};

use auth_core::AppState;
use authorizer::{Authorizer, Decision, Identity};
use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use lambda_http::http::header::AUTHORIZATION;
use serde_json::json;

pub const UPSTREAM_URL_VAR: &str = "UPSTREAM_URL";
pub const UPSTREAM_PREFIX_VAR: &str = "UPSTREAM_PREFIX";
pub const DEFAULT_PREFIX: &str = "/api";
/// The headers that carry who is calling. Any a client sends is dropped: only the check sets them.
pub const IDENTITY_HEADER_PREFIX: &str = "x-auth-";
/// What the upstream may answer with: a development server's pages, not downloads.
const MAX_UPSTREAM_BODY: u64 = 10 * 1024 * 1024;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// The upstream and the check in front of it.
pub struct Upstream {
    base: String,
    prefix: String,
    authorizer: Authorizer,
    agent: ureq::Agent,
}

impl Upstream {
    /// The upstream `lookup` (the environment) names, if any, checked with `state` as the
    /// functions would, with tokens issued at `origin` (the local server's URL).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        state: Arc<AppState>,
        origin: &str,
    ) -> Result<Option<Self>, String> {
        let Some(base) = lookup(UPSTREAM_URL_VAR).filter(|url| !url.is_empty()) else {
            return Ok(None);
        };
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!(
                "{UPSTREAM_URL_VAR}: `{base}` is not an http:// or https:// URL"
            ));
        }
        let prefix = lookup(UPSTREAM_PREFIX_VAR)
            .filter(|prefix| !prefix.is_empty())
            .unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
        if !prefix.starts_with('/') || prefix.ends_with('/') {
            return Err(format!(
                "{UPSTREAM_PREFIX_VAR}: `{prefix}` must start with / and not end with one"
            ));
        }
        let authorizer =
            Authorizer::new(state, Some(origin), &lookup).map_err(|error| error.to_string())?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(UPSTREAM_TIMEOUT))
            .build()
            .new_agent();
        Ok(Some(Self {
            base: base.trim_end_matches('/').to_owned(),
            prefix,
            authorizer,
            agent,
        }))
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether `path` is the upstream's.
    pub fn serves(&self, path: &str) -> bool {
        path.strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Checks the request as API Gateway's HTTP API with a Lambda authorizer would (401 with
    /// no `Authorization` header, 403 when refused), then forwards it.
    pub async fn handle(&self, parts: Parts, body: Bytes) -> Response {
        let authorization = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let identity = match authorization {
            None => return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"),
            Some(value) => match self.authorizer.decide(Some(value)).await {
                Decision::Allow(identity) => identity,
                Decision::Unauthorized(reason) | Decision::Deny(reason) => {
                    tracing::info!(reason = %reason, "upstream request refused");
                    return gateway_error(StatusCode::FORBIDDEN, "Forbidden");
                }
            },
        };
        let rest = parts.uri.path()[self.prefix.len()..].to_owned();
        let mut url = format!("{}{}", self.base, if rest.is_empty() { "/" } else { &rest });
        if let Some(query) = parts.uri.query() {
            url.push('?');
            url.push_str(query);
        }
        let mut request = lambda_http::http::Request::builder()
            .method(parts.method.clone())
            .uri(url);
        if let Some(headers) = request.headers_mut() {
            *headers = forwarded_headers(&parts.headers, &identity);
        }
        let Ok(request) = request.body(body.to_vec()) else {
            return gateway_error(StatusCode::BAD_GATEWAY, "Bad Gateway");
        };
        let agent = self.agent.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let response = agent.run(request)?;
            let (parts, mut body) = response.into_parts();
            let bytes = body.with_config().limit(MAX_UPSTREAM_BODY).read_to_vec()?;
            Ok::<_, ureq::Error>((parts, bytes))
        })
        .await;
        match answer {
            Ok(Ok((parts, bytes))) => {
                let mut headers = HeaderMap::new();
                for (name, value) in &parts.headers {
                    if !is_hop_by_hop(name.as_str()) {
                        headers.append(name.clone(), value.clone());
                    }
                }
                (parts.status, headers, bytes).into_response()
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "the upstream did not answer");
                gateway_error(StatusCode::BAD_GATEWAY, "Bad Gateway")
            }
            Err(_) => gateway_error(StatusCode::BAD_GATEWAY, "Bad Gateway"),
        }
    }
}

/// The client's headers without its token, hop-by-hop headers or any `X-Auth-*` it made up,
/// and who is calling as the check found them.
fn forwarded_headers(incoming: &HeaderMap, identity: &Identity) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in incoming {
        let name_text = name.as_str();
        if name == AUTHORIZATION
            || name_text == "host"
            || name_text.starts_with(IDENTITY_HEADER_PREFIX)
            || is_hop_by_hop(name_text)
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    let fresh = if identity.fresh { "true" } else { "false" };
    for (name, value) in [
        ("x-auth-sub", Some(identity.sub.as_str())),
        ("x-auth-scope", identity.scope.as_deref()),
        ("x-auth-jti", identity.jti.as_deref()),
        ("x-auth-sid", identity.sid.as_deref()),
        ("x-auth-fresh", Some(fresh)),
    ] {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(value).ok()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

/// RFC 9110 section 7.6.1: what one connection says to the next hop only.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

/// API Gateway's own answers, in its shape.
fn gateway_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({ "message": message }).to_string(),
    )
        .into_response()
}
