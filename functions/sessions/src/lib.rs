//! What a user sees of their account, with an access token (checked as at `/profile`: not a
//! refresh token, not revoked, of a user still allowed in):
//!
//! - `GET /sessions`: their live sessions, newest first, a page at a time (`?limit=1..100`,
//!   `?cursor=`): `{"sessions": [{"id", "started_at", "last_refreshed_at", "ip_address",
//!   "device": {"browser", "os"}, "amr", "current"}], "next_cursor"}` (no `next_cursor` on the
//!   last page);
//! - `DELETE /sessions/{id}`: ends one of them, as a logout of its refresh token does (`204`);
//!   another user's session, an unknown one or one ended already are the same `404`, so that
//!   no id tells anything of another account;
//! - `GET /account/activity`: their security activity log, newest first, a page at a time:
//!   `{"events": [{"id", "event", "outcome", "detail", "at", "ip_address", "device",
//!   "session_id"}], "next_cursor"}`.
//!
//! One function for the three (one screen, the same reads and permissions). Its errors are
//! the token routes' `{"msg": ...}`, and every answer says `Cache-Control: no-store`: where a
//! user signs in from is theirs alone. A GET needs no CSRF header in cookie mode; a DELETE
//! does, as every state-changing cookie request.

mod paging;
mod shown;

use auth_core::{
    AppState,
    activity::{self, ActivityEvent, ActivityOutcome},
    claims::{TokenKind, VerifiedClaims},
    metrics::Event,
    sessions::{self, SessionCursor, live_sessions_page},
    users::User,
};
use auth_http::{ApiError, ErrorKey, client, guard::authorized_user, json_response, respond};
use lambda_http::{
    Body, Error, Request, RequestExt, Response,
    http::{HeaderValue, Method, StatusCode, header::CACHE_CONTROL},
    request::RequestContext,
};
use serde_json::{Value, json};

use paging::{ActivityCursor, Cursor, PageRequest, page_request};

/// What `DELETE /sessions/{id}` answers for any id that is not a live session of the caller.
pub const SESSION_NOT_FOUND: &str = "Session not found";
/// The longest session id taken: ours are UUIDs (36 characters).
const MAX_SESSION_ID_CHARS: usize = 128;

/// The routes this function answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    List,
    End,
    Activity,
}

impl Route {
    /// The route of `method` and `path`, if it is one of ours: API Gateway's route key
    /// (`/sessions/{id}`), or a request's own path (`/sessions/<id>`).
    pub fn of(method: &str, path: &str) -> Option<Route> {
        match (method, path) {
            ("GET", "/sessions") => Some(Route::List),
            ("GET", "/account/activity") => Some(Route::Activity),
            ("DELETE", path) => path
                .strip_prefix("/sessions/")
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .map(|_| Route::End),
            _ => None,
        }
    }
}

/// The route API Gateway matched (`routeKey`, which no stage or mapping key prefixes), or
/// without one the request's own method and path.
fn route(request: &Request) -> Option<Route> {
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some((method, path)) = context
            .route_key
            .as_deref()
            .and_then(|key| key.split_once(' '))
    {
        return Route::of(method, path);
    }
    Route::of(request.method().as_str(), request.uri().path())
}

/// Whether `id` can be a session's id (a token's `sid`, or for a token without one its
/// `jti`): anything else is no session, and is answered without asking the store.
pub(crate) fn is_session_id(id: &str) -> bool {
    (1..=MAX_SESSION_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    let work = async {
        match answer(state, &request).await {
            Ok(response) => Ok(response),
            Err(Refused::Api(error)) => Err(error),
            Err(refused) => Ok(refused.into_response()),
        }
    };
    let mut response = respond(state, &request, ErrorKey::Msg, work).await?;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Why a request is refused: a token route's refusal (`auth_http::errors` answers it), or one
/// of this function's own, answered here.
#[derive(Debug)]
enum Refused {
    Api(ApiError),
    /// Not a live session of the caller: unknown, another user's, or ended.
    SessionNotFound,
    /// No route of this function.
    NoRoute,
    /// A method none of its routes takes.
    Method,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused::Api(error)
    }
}

impl Refused {
    /// This function's own refusals, as a status and `{"msg": ...}`.
    fn into_response(self) -> Response<Body> {
        let (status, message) = match self {
            Refused::Api(error) => return error.into_response(),
            Refused::SessionNotFound => (StatusCode::NOT_FOUND, SESSION_NOT_FOUND),
            Refused::NoRoute => (StatusCode::NOT_FOUND, "Not Found"),
            Refused::Method => (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        };
        json_response(status, &json!({"msg": message}))
    }
}

fn store_error(error: auth_core::store::StoreError) -> Refused {
    Refused::Api(ApiError::Store(ErrorKey::Msg, error))
}

async fn answer(state: &AppState, request: &Request) -> Result<Response<Body>, Refused> {
    let Some(route) = route(request) else {
        return Err(match request.method() {
            &Method::GET | &Method::DELETE => Refused::NoRoute,
            _ => Refused::Method,
        });
    };
    let (claims, user) = authorized_user(state, request, TokenKind::Access).await?;
    match route {
        Route::List => list_sessions(state, request, &claims, &user).await,
        Route::End => end_session(state, request, &user).await,
        Route::Activity => list_activity(state, request, &user).await,
    }
}

/// `GET /sessions`.
async fn list_sessions(
    state: &AppState,
    request: &Request,
    claims: &VerifiedClaims,
    user: &User,
) -> Result<Response<Body>, Refused> {
    let PageRequest { limit, after } = page_request::<SessionCursor>(
        request,
        sessions::DEFAULT_PAGE_SIZE,
        sessions::MAX_PAGE_SIZE,
    )?;
    let page = live_sessions_page(
        state.sessions(),
        user,
        state.clock().unix_secs(),
        limit,
        after.as_ref(),
    )
    .await
    .map_err(store_error)?;
    let current = claims.session_id();
    let listed: Vec<Value> = page
        .sessions
        .iter()
        .map(|session| shown::session(session, current == Some(session.id.as_str())))
        .collect();
    let mut body = json!({"sessions": listed});
    if let Some(next) = page.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// `DELETE /sessions/{id}`.
async fn end_session(
    state: &AppState,
    request: &Request,
    user: &User,
) -> Result<Response<Body>, Refused> {
    let id = session_id_of(request)
        .filter(|id| is_session_id(id))
        .ok_or(Refused::SessionNotFound)?;
    // One a password change or an operator ended is no longer live: the same 404.
    let not_before = user.sessions_not_before(&id);
    let ended = state
        .sessions()
        .end_session_of(&user.username, &id, not_before, state.clock().unix_secs())
        .await
        .map_err(store_error)?;
    if !ended {
        return Err(Refused::SessionNotFound);
    }
    state.record(Event::SessionEnded);
    state.activity().record(
        &user.username,
        ActivityEvent::SessionEnded,
        ActivityOutcome::Succeeded,
        client::activity_of(request)
            .detail(activity::detail::BY_USER)
            .session(Some(&id)),
    );
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// The `{id}` of `DELETE /sessions/{id}`: API Gateway's path parameter, or without one the
/// last segment of the request's path.
fn session_id_of(request: &Request) -> Option<String> {
    if let Some(id) = request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("id"))
    {
        return Some(id.to_owned());
    }
    request.uri().path().rsplit('/').next().map(str::to_owned)
}

/// `GET /account/activity`.
async fn list_activity(
    state: &AppState,
    request: &Request,
    user: &User,
) -> Result<Response<Body>, Refused> {
    let PageRequest { limit, after } = page_request::<ActivityCursor>(
        request,
        activity::DEFAULT_PAGE_SIZE,
        activity::MAX_PAGE_SIZE,
    )?;
    // A deployment without a log has logged nothing.
    let Some(log) = state.activity().log() else {
        return Ok(json_response(StatusCode::OK, &json!({"events": []})));
    };
    let before = after.as_ref().map(|ActivityCursor(id)| id.as_str());
    let page = log
        .list(&user.username, limit, before, state.clock().unix_secs())
        .await
        .map_err(store_error)?;
    let events: Vec<Value> = page.entries.iter().map(shown::entry).collect();
    let mut body = json!({"events": events});
    if let Some(next) = page.next {
        body["next_cursor"] = json!(ActivityCursor(next).encode());
    }
    Ok(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_by_route_key_or_by_path() {
        assert_eq!(Route::of("GET", "/sessions"), Some(Route::List));
        assert_eq!(Route::of("DELETE", "/sessions/{id}"), Some(Route::End));
        assert_eq!(
            Route::of("DELETE", "/sessions/00000000-0000-4000-8000-000000000001"),
            Some(Route::End)
        );
        assert_eq!(Route::of("GET", "/account/activity"), Some(Route::Activity));
        for (method, path) in [
            ("DELETE", "/sessions"),
            ("DELETE", "/sessions/"),
            ("DELETE", "/sessions/a/b"),
            ("GET", "/sessions/abc"),
            ("POST", "/sessions"),
            ("DELETE", "/account/activity"),
        ] {
            assert_eq!(Route::of(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn a_session_id_is_a_short_url_safe_word() {
        assert!(is_session_id("00000000-0000-4000-8000-000000000001"));
        assert!(is_session_id("a_B-9"));
        for bad in [
            "",
            "a b",
            "a/b",
            "a%2Fb",
            "é",
            &"a".repeat(MAX_SESSION_ID_CHARS + 1),
        ] {
            assert!(!is_session_id(bad), "{bad}");
        }
    }
}
