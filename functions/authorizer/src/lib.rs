//! An API Gateway Lambda authorizer that gives another API the check `/profile` makes: the
//! access token's signature, algorithm and times, and then its revocation and its session's, and
//! its user (exists, not disabled, no sessions ended since it was issued), which a JWT
//! authorizer cannot know. It answers the three shapes API Gateway sends:
//!
//! - an HTTP API's (payload format 2.0), with a simple response: `{"isAuthorized", "context"}`;
//! - a REST API's `TOKEN` and `REQUEST` authorizers, with an IAM policy for the method.
//!
//! With `AUTHORIZER_REQUIRE_MFA=true` it also refuses a token whose session passed no second
//! factor (its `amr`), which API Gateway's JWT authorizer cannot read.
//!
//! A refusal tells the client nothing more than API Gateway's 401/403; the reason goes to the
//! log, never the token. A store outage refuses (fails closed) and logs an error.

use std::sync::Arc;

use auth_core::{
    AppState, StartupError,
    access::Refusal,
    claims::{AuthMethods, TokenKind, VerifiedClaims},
    settings::parse_switch,
    tokens::{IssuerUnknown, TokenService},
    users::is_valid_scope,
};
use auth_http::bearer::bearer_token;
use lambda_http::{
    Error,
    http::{HeaderMap, HeaderValue, header::AUTHORIZATION},
};
use serde_json::{Map, Value, json};

/// Scopes every token must grant, space-separated (e.g. `reports:read admin`); unset: none.
pub const REQUIRED_SCOPES_VAR: &str = "AUTHORIZER_REQUIRED_SCOPES";
/// Whether every token must come from a session that passed a second factor: `true` or
/// `false` (any case); unset: false.
pub const REQUIRE_MFA_VAR: &str = "AUTHORIZER_REQUIRE_MFA";

/// What REST API Gateway answers with a 401 when an authorizer returns this error.
const UNAUTHORIZED: &str = "Unauthorized";

/// Why the authorizer could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(
        "invalid configuration: JWT_ISSUER: is required by the authorizer with an asymmetric \
         JWT_ALGORITHM: it checks tokens for other APIs, whose URL is not the issuer"
    )]
    NoIssuer(#[from] IssuerUnknown),
    #[error("invalid configuration: {REQUIRED_SCOPES_VAR}: `{0}` is not a scope-token")]
    BadScope(String),
    #[error("invalid configuration: {REQUIRE_MFA_VAR}: `{0}` is not `true` or `false`")]
    BadSwitch(String),
}

/// The authorizer: the state of the other functions, the token service for the configured
/// issuer, the scopes every token needs, and whether it needs a second factor.
pub struct Authorizer {
    state: Arc<AppState>,
    tokens: TokenService,
    required_scopes: Vec<String>,
    require_mfa: bool,
}

/// The event API Gateway sent, told apart by its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerEvent {
    /// An HTTP API's, payload format 2.0: it takes a simple response.
    HttpApi { authorization: Option<String> },
    /// A REST API's `TOKEN` or `REQUEST` authorizer: it takes an IAM policy for `method_arn`.
    Rest {
        authorization: Option<String>,
        method_arn: String,
    },
}

/// Who is calling, for the integration to read without parsing the token again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub scope: Option<String>,
    pub jti: Option<String>,
    pub sid: Option<String>,
    pub fresh: bool,
}

/// The answer, before it takes the shape of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(Identity),
    /// No token, or none that could be read: a REST API answers 401.
    Unauthorized(String),
    /// A token that is not good (expired, revoked, forged, lacking a scope or a second factor
    /// when one is required...), or a store that did not answer: 403.
    Deny(String),
}

impl Authorizer {
    /// `state` with the scopes and the second factor `lookup` (the environment) requires.
    /// `origin` is where the tokens were issued when the deployment takes its issuer from the URL
    /// (`local-api`'s own); in Lambda, None: the issuer must then be configured (`JWT_ISSUER`).
    pub fn new(
        state: Arc<AppState>,
        origin: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, AuthorizerError> {
        let tokens = state.tokens().for_origin(origin)?;
        let mut required_scopes = Vec::new();
        for scope in lookup(REQUIRED_SCOPES_VAR)
            .unwrap_or_default()
            .split_ascii_whitespace()
        {
            if !is_valid_scope(scope) {
                return Err(AuthorizerError::BadScope(scope.to_owned()));
            }
            required_scopes.push(scope.to_owned());
        }
        // Empty is unset, as for the service's settings: CloudFormation passes an empty string
        // for an empty parameter.
        let require_mfa = match lookup(REQUIRE_MFA_VAR).filter(|text| !text.is_empty()) {
            None => false,
            Some(text) => match parse_switch(&text) {
                Ok(switch) => switch,
                Err(_) => return Err(AuthorizerError::BadSwitch(text)),
            },
        };
        Ok(Self {
            state,
            tokens,
            required_scopes,
            require_mfa,
        })
    }

    /// What it checks tokens against: the other functions' state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The answer to `event`, in its shape. An event that is no authorizer event is an error:
    /// the invocation fails, and API Gateway answers 500 without calling the integration.
    pub async fn handle(&self, event: Value) -> Result<Value, Error> {
        let event = parse_event(&event).map_err(|why| -> Error { why.into() })?;
        let authorization = match &event {
            AuthorizerEvent::HttpApi { authorization } => authorization,
            AuthorizerEvent::Rest { authorization, .. } => authorization,
        };
        let decision = self.decide(authorization.as_deref()).await;
        match &decision {
            Decision::Allow(identity) => {
                tracing::info!(user = %identity.sub, "authorized");
            }
            Decision::Unauthorized(reason) | Decision::Deny(reason) => {
                tracing::info!(reason = %reason, "refused");
            }
        }
        respond(&event, decision)
    }

    /// Whether the `Authorization` value is a good access token, and whose.
    pub async fn decide(&self, authorization: Option<&str>) -> Decision {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization.and_then(|value| HeaderValue::from_str(value).ok()) {
            headers.insert(AUTHORIZATION, value);
        }
        let token = match bearer_token(&headers) {
            Ok(token) => token,
            Err(error) => return Decision::Unauthorized(error.to_string()),
        };
        let now = self.state.clock().now().as_secs_f64();
        let claims = match self.tokens.verify_at(&token, TokenKind::Access, now) {
            Ok(claims) => claims,
            Err(error) => return Decision::Deny(error.to_string()),
        };
        if let Err(refusal) = self.state.user_of(&claims).await {
            // As an HTTP function's answer counts it (`auth_http::respond`).
            if let Some(event) = refusal.event() {
                self.state.record(event);
            }
            if let Refusal::Store(error) = &refusal {
                tracing::error!(%error, "store unavailable: access refused");
            }
            return Decision::Deny(reason_of(&refusal));
        }
        let granted: Vec<&str> = claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .collect();
        if let Some(missing) = self
            .required_scopes
            .iter()
            .find(|scope| !granted.contains(&scope.as_str()))
        {
            return Decision::Deny(format!("the token lacks the scope {missing}"));
        }
        if self.require_mfa
            && let Some(reason) = lacks_second_factor(claims.amr.as_deref())
        {
            return Decision::Deny(reason.to_owned());
        }
        Decision::Allow(identity_of(claims))
    }
}

/// The event's shape and what it carries. HTTP API events say `"version": "2.0"`; REST API
/// events have a `methodArn`, and a `TOKEN` one its `authorizationToken`.
pub fn parse_event(event: &Value) -> Result<AuthorizerEvent, &'static str> {
    let header = |name: &str| {
        event["headers"].as_object().and_then(|headers| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, value)| value.as_str())
                .map(str::to_owned)
        })
    };
    if event["version"] == "2.0" && event["type"] == "REQUEST" {
        return Ok(AuthorizerEvent::HttpApi {
            authorization: header("authorization"),
        });
    }
    let method_arn = event["methodArn"]
        .as_str()
        .ok_or("not an API Gateway authorizer event: no methodArn, and not an HTTP API's")?
        .to_owned();
    let authorization = match event["type"].as_str() {
        Some("TOKEN") => event["authorizationToken"].as_str().map(str::to_owned),
        Some("REQUEST") => header("authorization"),
        _ => return Err("not an API Gateway authorizer event: type is neither TOKEN nor REQUEST"),
    };
    Ok(AuthorizerEvent::Rest {
        authorization,
        method_arn,
    })
}

/// `decision` in the shape `event` expects.
pub fn respond(event: &AuthorizerEvent, decision: Decision) -> Result<Value, Error> {
    match (event, decision) {
        (AuthorizerEvent::HttpApi { .. }, Decision::Allow(identity)) => {
            Ok(json!({"isAuthorized": true, "context": context(&identity)}))
        }
        (AuthorizerEvent::HttpApi { .. }, _) => Ok(json!({"isAuthorized": false})),
        // REST answers 401 for this error, the one way to say "no credentials".
        (AuthorizerEvent::Rest { .. }, Decision::Unauthorized(_)) => Err(UNAUTHORIZED.into()),
        (AuthorizerEvent::Rest { method_arn, .. }, Decision::Allow(identity)) => Ok(json!({
            "principalId": identity.sub,
            "policyDocument": policy("Allow", method_arn),
            "context": context(&identity),
        })),
        (AuthorizerEvent::Rest { method_arn, .. }, Decision::Deny(_)) => Ok(json!({
            "principalId": "anonymous",
            "policyDocument": policy("Deny", method_arn),
        })),
    }
}

/// A policy for every method of the stage `method_arn` is in: the decision does not depend on
/// the method, and API Gateway caches the policy per token for the TTL, so a policy for the one
/// method asked would refuse the next method the same token calls.
fn policy(effect: &str, method_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                       "Resource": stage_arn(method_arn)}],
    })
}

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/*/*` of a method's ARN
/// (`…:{api}/{stage}/{method}/{path}`); the ARN itself when it is not of that shape.
pub fn stage_arn(method_arn: &str) -> String {
    let Some((prefix, resource)) = method_arn.rsplit_once(':') else {
        return method_arn.to_owned();
    };
    let mut parts = resource.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(api), Some(stage), Some(_)) if !api.is_empty() && !stage.is_empty() => {
            format!("{prefix}:{api}/{stage}/*/*")
        }
        _ => method_arn.to_owned(),
    }
}

/// What the integration reads (`requestContext.authorizer.lambda` in an HTTP API event,
/// `requestContext.authorizer` in a REST one): strings and booleans only, as REST requires.
fn context(identity: &Identity) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("sub".to_owned(), json!(identity.sub));
    for (name, value) in [
        ("scope", &identity.scope),
        ("jti", &identity.jti),
        ("sid", &identity.sid),
    ] {
        if let Some(value) = value {
            context.insert(name.to_owned(), json!(value));
        }
    }
    context.insert("fresh".to_owned(), json!(identity.fresh));
    context
}

fn identity_of(claims: VerifiedClaims) -> Identity {
    Identity {
        sid: claims.session_id().map(str::to_owned),
        sub: claims.subject,
        scope: claims.scope,
        jti: claims.jti,
        fresh: claims.fresh,
    }
}

/// Why a token's `amr` shows no second factor, for the log; None when it shows one. An `amr`
/// this service does not issue proves nothing, and a token without one (flask-jwt-extended's,
/// or issued before `amr`) cannot say: both are refused, as the variable promises.
fn lacks_second_factor(amr: Option<&[String]>) -> Option<&'static str> {
    let Some(amr) = amr else {
        return Some("the token has no amr: its second factor is unknown");
    };
    match AuthMethods::of_claim(amr) {
        Some(methods) if methods.has_second_factor() => None,
        Some(_) => Some("the token's session passed no second factor"),
        None => Some("the token's amr is not one this service issues"),
    }
}

/// Why `/profile` would have refused the token, for the log: never the token, never a name.
fn reason_of(refusal: &Refusal) -> String {
    match refusal {
        Refusal::UnknownUser(_) => "the token's user does not exist".to_owned(),
        Refusal::Store(store) => format!("the store did not answer: {store}"),
        other => other.to_string(),
    }
}
