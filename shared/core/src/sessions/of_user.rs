//! A user's live sessions as every reader of them counts them: the user's page, the logout
//! that ends the others, and the operator's listing.

use super::{SessionCursor, SessionPage, SessionQuery, SessionStore};
use crate::{store::StoreError, users::User};

/// A page of `user`'s sessions live at `now`. Those a password change or an operator ended
/// began before the user's `tokens_valid_after`, and the store leaves them out by itself; but
/// the session a password change kept began before it too and goes on: then every session is
/// read and those the change ended are left out here, so a page may hold fewer than `limit`
/// with more to come.
pub async fn live_sessions_page(
    store: &dyn SessionStore,
    user: &User,
    now: i64,
    limit: usize,
    after: Option<&SessionCursor>,
) -> Result<SessionPage, StoreError> {
    let kept = user.account.kept_session.is_some();
    let mut page = store
        .list_sessions(&SessionQuery {
            username: &user.username,
            not_before: user.tokens_valid_after.filter(|_| !kept),
            now,
            limit,
            after,
        })
        .await?;
    if kept {
        page.sessions
            .retain(|session| !user.outlived_in(Some(session.started_at), Some(&session.id)));
    }
    Ok(page)
}
