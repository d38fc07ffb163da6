//! The mails the service sends, in plain text and HTML. Rendered here, not by SES templates:
//! one place to read and test them, and the same text whatever sends them (SES, the local
//! outbox). The only variable parts are the page's URL (checked at start) and the token
//! (base64url), each escaped in the HTML.

use std::time::Duration;

use auth_core::accounts::{Purpose, mail::Mail};

/// The link a mail carries: the page, with the token's purpose and the token in its query.
pub fn link(app_url: &str, purpose: Purpose, token: &str) -> String {
    let separator = if app_url.contains('?') { '&' } else { '?' };
    format!("{app_url}{separator}type={}&token={token}", purpose.name())
}

/// Asks the owner of a new account's address to confirm it.
pub fn confirmation(to: &str, app_url: &str, token: &str, lives: Duration) -> Mail {
    let link = link(app_url, Purpose::Signup, token);
    let lives = for_people(lives);
    letter(
        to,
        "Confirm your email address",
        &[
            "Someone, we hope you, signed up with this address.".to_owned(),
            format!("To confirm it, open this link within {lives}:"),
        ],
        &link,
        "If it was not you, ignore this mail: the account cannot be used until the address is \
         confirmed.",
    )
}

/// A reset link for a known address.
pub fn reset(to: &str, app_url: &str, token: &str, lives: Duration) -> Mail {
    let link = link(app_url, Purpose::Recovery, token);
    let lives = for_people(lives);
    letter(
        to,
        "Reset your password",
        &[
            "Someone, we hope you, asked to reset the password of the account with this address."
                .to_owned(),
            format!("To choose a new password, open this link within {lives}:"),
        ],
        &link,
        "If it was not you, ignore this mail: your password stays as it is.",
    )
}

/// Tells the owner of a known address that someone signed up with it: the mail the new
/// account's would have been, so that the answer to the sign-up is the same.
pub fn already_registered(to: &str, app_url: &str) -> Mail {
    letter(
        to,
        "Someone tried to sign up with your address",
        &[
            "Someone, perhaps you, tried to sign up with this address, which already has an \
             account."
                .to_owned(),
            "If it was you, log in; if you forgot your password, ask for a reset link here:"
                .to_owned(),
        ],
        app_url,
        "If it was not you, ignore this mail: nothing has changed.",
    )
}

/// "24 hours", "1 hour", "30 minutes".
fn for_people(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (count, unit) = match seconds {
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

fn letter(to: &str, subject: &str, lines: &[String], link: &str, footer: &str) -> Mail {
    let text = format!("{}\n\n{link}\n\n{footer}\n", lines.join("\n"));
    let paragraphs: String = lines
        .iter()
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect();
    let html = format!(
        "<!doctype html><html><body>{paragraphs}<p><a href=\"{href}\">{href}</a></p><p>{}</p></body></html>",
        escape(footer),
        href = escape(link),
    );
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_adds_type_and_token_to_the_page_query() {
        assert_eq!(
            link("https://app.example/welcome", Purpose::Signup, "abc"),
            "https://app.example/welcome?type=signup&token=abc"
        );
        assert_eq!(
            link("https://app.example/?lang=fr", Purpose::Recovery, "abc"),
            "https://app.example/?lang=fr&type=recovery&token=abc"
        );
    }

    #[test]
    fn each_mail_has_its_link_in_text_and_html_and_says_how_long_it_lives() {
        let mail = confirmation(
            "ann@example.com",
            "https://app.example/a?x=1&y=2",
            "tok-_1",
            Duration::from_secs(86400),
        );
        assert_eq!(mail.to, "ann@example.com");
        assert!(
            mail.text
                .contains("https://app.example/a?x=1&y=2&type=signup&token=tok-_1")
        );
        assert!(mail.text.contains("within 24 hours"));
        assert!(mail.html.contains(
            "href=\"https://app.example/a?x=1&amp;y=2&amp;type=signup&amp;token=tok-_1\""
        ));
        let reset = reset(
            "ann@example.com",
            "https://app.example",
            "t",
            Duration::from_secs(3600),
        );
        assert!(reset.text.contains("type=recovery&token=t"));
        assert!(reset.text.contains("within 1 hour:"));
        let notice = already_registered("ann@example.com", "https://app.example");
        assert!(!notice.text.contains("token="));
        assert_eq!(for_people(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(for_people(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn html_escapes_what_could_end_an_attribute() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
