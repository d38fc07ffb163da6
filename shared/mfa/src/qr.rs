//! The otpauth URI as a QR code an authenticator app scans, in SVG: text a page can show as it
//! is (`<img src="data:image/svg+xml,...">` or inline), with no image library behind it.

use qrcode::{EcLevel, QrCode, render::svg};

#[derive(Debug, thiserror::Error)]
#[error("the URI does not fit in a QR code: {0}")]
pub struct TooLong(String);

/// The QR code of `text` (medium error correction, a quiet zone around it), at least 200
/// pixels a side.
pub fn svg(text: &str) -> Result<String, TooLong> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|error| TooLong(error.to_string()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_uri_is_an_svg_document_of_dark_modules_and_nothing_else() {
        let image = svg("otpauth://totp/JWT%20Auth:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=JWT%20Auth").unwrap();
        assert!(image.starts_with("<?xml"), "{}", &image[..40]);
        assert!(image.contains("<svg"));
        assert!(image.trim_end().ends_with("</svg>"));
        assert!(image.contains("<path"), "the modules");
        assert!(!image.contains("<script"));
        assert!(
            !image.contains("GEZDGNBV"),
            "the secret is in the picture, not its text"
        );
    }

    #[test]
    fn two_texts_draw_two_codes() {
        assert_ne!(
            svg("otpauth://totp/a?secret=AAAA").unwrap(),
            svg("otpauth://totp/a?secret=BBBB").unwrap()
        );
    }

    #[test]
    fn a_text_too_long_for_any_qr_code_is_an_error_not_a_panic() {
        assert!(svg(&"x".repeat(5000)).is_err());
    }
}
