package datasets

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"
)

// email is the part of a raw message that the spam task shows: the subject and the body text.
type email struct {
	subject, body string
}

// maxMIMEDepth bounds the nesting of multipart messages that is searched for a text part.
const maxMIMEDepth = 5

// parseEmail reads a raw RFC 5322 message (an mbox "From " line first is allowed) and returns its
// decoded subject and the text of its first text/plain part (else its first text/html part with
// the markup removed), white space normalised. A message whose MIME structure is broken falls
// back to the raw body; one without a header/body separator is an error.
func parseEmail(raw []byte) (email, error) {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return email{}, err
	}
	body, _ := io.ReadAll(msg.Body)
	text, ok := mimeText(textproto.MIMEHeader(msg.Header), body, 0)
	if !ok {
		text = decodeText(body, "")
	}
	if t, ok := undeclaredMultipart(body); ok && strings.HasPrefix(strings.TrimSpace(text), "--") {
		text = t
	}
	// A subject in raw 8-bit bytes is taken to be in the message's charset.
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	subject := decodeHeader(msg.Header.Get("Subject"), params["charset"])
	return email{subject: normSpace(demojibake(subject)), body: normSpace(demojibake(text))}, nil
}

// undeclaredMultipart reads a body that starts with a MIME boundary line although the message
// does not declare itself multipart (a common fault of spam software).
func undeclaredMultipart(body []byte) (string, bool) {
	first, _, _ := bytes.Cut(bytes.TrimLeft(body, "\r\n"), []byte("\n"))
	first = bytes.TrimSpace(first)
	if !bytes.HasPrefix(first, []byte("--")) || len(first) < 8 || bytes.ContainsAny(first, " \t") {
		return "", false
	}
	h := textproto.MIMEHeader{"Content-Type": {`multipart/mixed; boundary="` + string(first[2:]) + `"`}}
	return mimeText(h, body, 0)
}

// decodeHeader decodes RFC 2047 encoded words (decodeText with their charset); raw bytes outside
// them are read in charset.
func decodeHeader(s, charset string) string {
	dec := mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		b, err := io.ReadAll(r)
		return strings.NewReader(decodeText(b, cs)), err
	}}
	if d, err := dec.DecodeHeader(s); err == nil {
		s = d
	}
	return decodeText([]byte(s), charset)
}

// latinCharsets are the charsets read as Latin-1 when text is not valid UTF-8 (windows-1252 and
// ISO 8859-15 differ in a few characters only). An unnamed charset is guessed to be Latin-1 too.
var latinCharsets = map[string]bool{"": true, "us-ascii": true, "ascii": true, "iso-8859-1": true,
	"iso8859-1": true, "latin1": true, "iso-8859-15": true, "windows-1252": true, "cp1252": true}

// iso2022Shift matches the double-byte stretches of ISO-2022-JP text (ESC $ B ... ESC ( B).
var iso2022Shift = regexp.MustCompile(`\x1b\$[@B].*?(\x1b\([BJ]|$)`)

// decodeText returns b as UTF-8 text. Valid UTF-8 stays as it is, other text is read as Latin-1
// when charset is one of latinCharsets; text in other charsets (Big5, GB2312, KOI8-R, ... which
// the standard library cannot decode) keeps only its ASCII, each run of other bytes becoming a
// space, so that no mojibake is shown. ISO-2022-JP's double-byte stretches are dropped too.
func decodeText(b []byte, charset string) string {
	b = iso2022Shift.ReplaceAll(b, []byte(" "))
	switch {
	case utf8.Valid(b):
		return string(b)
	case latinCharsets[strings.ToLower(strings.Trim(charset, `" `))]:
		return toUTF8(b)
	}
	return asciiOnly(string(bytes.ToValidUTF8(b, []byte{0x80})))
}

// highRun is three or more characters in a row from U+0080–U+00FF, which Western words do not have.
var highRun = regexp.MustCompile(`[\x{80}-\x{ff}]{3,}`)

// demojibake removes Asian text mis-decoded as Latin-1 (by its sender, by a converter before us,
// or through HTML character references): when more than 30% of its letters are in
// U+0080–U+00FF every non-ASCII run becomes a space (asciiOnly), else every run of highRun does.
// Western text has only a few, isolated accented letters.
func demojibake(s string) string {
	high, letters := 0, 0
	for _, r := range s {
		if r >= 0x80 && r <= 0xff {
			high++
		}
		if r > ' ' {
			letters++
		}
	}
	if high*10 > letters*3 {
		return asciiOnly(s)
	}
	return highRun.ReplaceAllString(s, " ")
}

// asciiOnly replaces every run of non-ASCII characters of s with a space.
func asciiOnly(s string) string {
	var b strings.Builder
	prevHigh := false
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			prevHigh = false
			continue
		}
		if !prevHigh {
			b.WriteByte(' ')
		}
		prevHigh = true
	}
	return b.String()
}

// mimeText finds the text of an entity: its decoded body if it is text/*, the best text part of
// a multipart entity (text/plain before text/html), or false when it holds no text.
func mimeText(h textproto.MIMEHeader, body []byte, depth int) (string, bool) {
	ct := h.Get("Content-Type")
	media, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		media = "text/plain"
	}
	switch {
	case strings.HasPrefix(media, "multipart/"):
		if depth >= maxMIMEDepth || params["boundary"] == "" {
			return "", false
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		var htmlText string
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			// A message cut short (no closing boundary) still gives the part read so far.
			pb, rerr := io.ReadAll(p)
			if rerr != nil && len(pb) == 0 {
				break
			}
			pt, ok := mimeText(p.Header, pb, depth+1)
			if !ok {
				continue
			}
			if pm, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pm == "text/html" {
				if htmlText == "" {
					htmlText = pt
				}
				continue
			}
			return pt, true
		}
		return htmlText, htmlText != ""
	case strings.HasPrefix(media, "text/"):
		text := decodeText(decodeTransfer(h.Get("Content-Transfer-Encoding"), body), params["charset"])
		if media == "text/html" {
			text = htmlToText(text)
		}
		return text, true
	}
	return "", false
}

// decodeTransfer undoes a Content-Transfer-Encoding; a broken encoding gives what decoded so far
// (or the raw bytes).
func decodeTransfer(enc string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return out
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil && n == 0 {
			return body
		}
		return out[:n]
	}
	return body
}

var (
	htmlDrop = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>|<!--.*?-->`)
	htmlTag  = regexp.MustCompile(`(?s)<[^>]*>`)
)

// htmlToText removes scripts, styles, comments and tags and unescapes entities.
func htmlToText(s string) string {
	s = htmlDrop.ReplaceAllString(s, " ")
	s = htmlTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}
