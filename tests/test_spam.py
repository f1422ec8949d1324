"""The content score's signals, one by one, through ``handler.spam.score``: each test names the
reason it expects, and the points it brings, so that it fails if that signal goes."""

from __future__ import annotations

import pytest

from handler.spam import THRESHOLD, SpamVerdict, score

NAME = "Alex Example"
ENQUIRY = "Hello, I would like to start therapy for anxiety. Do you have evening appointments?"


def test_a_plain_enquiry_scores_nothing() -> None:
    assert score(NAME, ENQUIRY) == SpamVerdict(0, ())


def test_a_link_in_a_sentence_scores_one_and_never_holds_alone() -> None:
    verdict = score(NAME, f"{ENQUIRY} I found you here: https://www.psychologytoday.com/us/therapists/123456")
    assert verdict == SpamVerdict(1, ("links",)) and not verdict.held


@pytest.mark.parametrize(
    "link", ["http://a.example/x", "https://a.example", "www.a.example", "t.me/someone", "wa.me/15550000000"]
)
def test_each_kind_of_link_counts(link: str) -> None:
    assert score(NAME, f"{ENQUIRY} {link}").reasons[0] == "links"


def test_links_count_up_to_three_so_a_signature_block_never_holds() -> None:
    signature = "\n".join(f"https://site{n}.example/profile" for n in range(6))
    verdict = score(NAME, f"{ENQUIRY}\n\nBest regards,\nAlex\n{signature}")
    assert verdict == SpamVerdict(3, ("links",)) and not verdict.held


def test_an_email_address_is_not_a_link() -> None:
    assert score(NAME, f"{ENQUIRY} Please write to alex@www.example.com rather than calling.") == SpamVerdict(0, ())


@pytest.mark.parametrize(
    "message", ["https://bit.ly/3xYzQ9a", "Look at this http://clck.ru/34DfHy", "Nice site! www.a.example"]
)
def test_a_message_that_is_only_a_link_is_held(message: str) -> None:
    verdict = score(NAME, message)
    assert verdict == SpamVerdict(5, ("links", "mostly_url")) and verdict.held


def test_four_words_beside_a_link_are_not_mostly_a_url() -> None:
    assert score(NAME, "Are you taking clients? https://www.psychologytoday.com/us/x").reasons == ("links",)


@pytest.mark.parametrize(
    "message",
    [
        "Very good site! [url=https://a.example]cheap bags[/url] Have a nice day, everyone here.",
        "Very good site! [URL]https://a.example[/URL] Have a nice day, everyone here.",
        'Very good site! <a href="https://a.example">cheap bags</a> Have a nice day, everyone here.',
        "Very good site! <A\nclass=x HREF=https://a.example>cheap bags</A> Have a nice day, everyone.",
    ],
)
def test_a_forum_link_is_held(message: str) -> None:
    verdict = score(NAME, message)
    assert verdict == SpamVerdict(5, ("links", "markup_link")) and verdict.held


@pytest.mark.parametrize(
    "name", ["http://free-gift.example", "Mike https://seo.example", "www.getclients.example", "Crypto-bonus.com 🎁"]
)
def test_a_link_for_a_name_is_held(name: str) -> None:
    verdict = score(name, ENQUIRY)
    assert verdict == SpamVerdict(5, ("name_is_url",)) and verdict.held


@pytest.mark.parametrize(
    "name",
    [
        "Dr. J. R. Smith",
        "Mr.Robert Hughes",
        "Linda Park, LCSW",
        "St. John-Smith",
        "maria.g@gmail.com",
        "Eve <eve@x.org>",
    ],
)
def test_a_name_with_dots_or_an_address_is_not_a_link(name: str) -> None:
    assert score(name, ENQUIRY) == SpamVerdict(0, ())


def test_one_spam_phrase_scores_three_and_never_holds_alone() -> None:
    verdict = score(NAME, "We can get your practice on the first page of Google. Interested in a chat?")
    assert verdict == SpamVerdict(3, ("phrase",)) and not verdict.held


def test_two_spam_phrases_hold_and_more_add_nothing() -> None:
    two = score(NAME, "Would you like more website traffic? Our agency does lead generation for clinics.")
    four = score(NAME, "Guest post with a dofollow backlink, and website traffic. Our agency can do lead generation.")
    assert two == four == SpamVerdict(6, ("phrase",)) and two.held


def test_seo_counts_as_the_acronym_only() -> None:
    assert score(NAME, "I offer SEO for practices like yours.").reasons == ("phrase",)
    assert score("Seo Jin", "My name is Seo Jin and I would like to book a first session.") == SpamVerdict(0, ())


@pytest.mark.parametrize(
    "message",
    [
        "Do you offer a free consultation? How much is a session, and do you take Aetna insurance?",
        "I found you on Google. I noticed your website says you do EMDR.",
        "I lost my savings trading bitcoin and crypto, and I took a payday loan. Casino apps too.",
        "My insurance pre-approved 12 sessions. I have low interest in things I used to love.",
        "I take Xanax and Viagra, prescribed by my doctor, and I have bad credit.",
        "I'm a business owner and I work in digital marketing; please add me to your email list.",
    ],
)
def test_a_clients_words_are_not_spam_phrases(message: str) -> None:
    assert "phrase" not in score(NAME, message).reasons


def test_a_phrase_and_two_links_hold() -> None:
    verdict = score(NAME, "Free spins for you today at https://a.example and https://b.example")
    assert verdict == SpamVerdict(5, ("links", "phrase")) and verdict.held


def test_a_latin_name_over_cyrillic_text_is_mixed_scripts() -> None:
    russian = "Здравствуйте! Мы с женой хотели бы пройти семейную терапию. Можно вечером?"
    verdict = score("Dmitri Volkov", russian)
    assert verdict == SpamVerdict(2, ("mixed_scripts",)) and not verdict.held
    assert score("Дмитрий Волков", russian) == SpamVerdict(0, ())  # a Russian speaker writing Russian
    assert score("Дмитрий Волков", ENQUIRY) == SpamVerdict(0, ())  # a Russian name over English


def test_mixed_scripts_leaves_links_out() -> None:
    """The Latin letters of a link do not make a Cyrillic message Latin."""
    message = "Займы онлайн без проверки https://zaim-online-bez-otkaza-i-proverki.example/very/long/latin/path/here"
    assert "mixed_scripts" in score("Stevenned", message).reasons


def test_a_messaging_app_scores_one() -> None:
    assert score(NAME, "Hello dear, I am lonely. Write me on WhatsApp please.") == SpamVerdict(1, ("messaging",))
    assert score("Мария", "Пишите нам в Телеграм, пожалуйста.").reasons == ("messaging",)


@pytest.mark.parametrize(
    ("name", "message"),
    [("xKQbYpTrZm", "WqRtYzKpLmNvBcXs"), ("asdfgh", "asdfghjkl qwerty"), ("qmzvtpwl", "qmzvtpwl qmzvtpwl")],
)
def test_random_letters_in_both_fields_are_held(name: str, message: str) -> None:
    verdict = score(name, message)
    assert verdict == SpamVerdict(6, ("random_text",)) and verdict.held


def test_random_letters_in_one_field_score_three() -> None:
    assert score("ZsUfNjOePb", ENQUIRY) == SpamVerdict(3, ("random_text",))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ronald McDonald", "Hi, I'm LaToya's husband DeShawn; she uses an iPhone and MacBook."),
        ("KAREN LEWIS", "MY SON CAME BACK FROM DEPLOYMENT AND HE IS NOT THE SAME."),
        ("Ann", "Hmmmmmm. Brrrrrr, it is cold. Pfffffff."),
        ("Lena", "The form: https://docs.google.com/forms/d/e/1FAIpQLSexampleFormId123/viewform thanks"),
        ("Lena", "Write to AbCdEfGh@example.com please."),
    ],
)
def test_names_capitals_links_and_addresses_are_not_random_letters(name: str, message: str) -> None:
    assert "random_text" not in score(name, message).reasons


def test_fullwidth_letters_are_read_as_plain_ones() -> None:
    assert score(NAME, "ｈｔｔｐｓ://ａ.example") == SpamVerdict(5, ("links", "mostly_url"))


def test_held_is_the_threshold_or_more() -> None:
    assert THRESHOLD == 5
    assert SpamVerdict(THRESHOLD, ()).held and not SpamVerdict(THRESHOLD - 1, ()).held
