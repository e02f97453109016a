import pytest

from apps.marketing import content


@pytest.mark.parametrize(
    "text",
    [
        "{name} 様\n\n秋の新商品が入荷しました。",
        "Dear {name}, see https://shop.example/new",
        "配信停止: {unsubscribe_url}",
        "（{unsubscribe_url}）",
        "{name}.\nThanks",
    ],
)
def test_placeholders_in_plain_text_are_fine(text):
    assert content.text_problems(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "https://collector.example/?n={name}",
        "http://{name}.collector.example/",
        "www.collector.example/{name}",
        "{name}@collector.example",
        "mailto:c@collector.example?body={unsubscribe_url}",
        "https://collector.example/?u={unsubscribe_url}",
    ],
)
def test_a_placeholder_inside_an_address_in_text_is_a_problem(text):
    assert content.text_problems(text)


def test_html_text_is_checked_across_inline_tags_but_not_across_blocks():
    assert content.html_problems("<p>https://c.example/?n=<b>{name}</b></p>")
    assert content.html_problems("<p>https://shop.example/</p><p>{name} 様</p>") == []
    assert content.html_problems('<a href="https://shop.example/">{name} 様の特典</a>') == []


@pytest.mark.parametrize(
    "body",
    [
        '<p>{name} 様 <b>新商品</b></p><a href="{unsubscribe_url}">配信停止</a>',
        '<table width="600" role="presentation"><tr><td align="center">x</td></tr></table>'
        'text<p style="color:#333;font-size:14px">y</p><img src="https://shop.example/a.png">',
        "<ul><li>a<li>b</ul><p>unclosed <b>bold <i>both</b> italic",
        '<a href="mailto:shop@example.com?subject=%E8%B3%AA%E5%95%8F">問い合わせ</a>',
    ],
)
def test_cleaning_is_idempotent_so_a_saved_body_is_sendable(body):
    cleaned = content.html_clean(body)
    assert content.html_clean(cleaned) == cleaned
    assert content.content_problems(subject="件名", body_text="本文", body_html=cleaned) == {}


def test_the_allow_list_keeps_mail_markup_and_drops_the_rest():
    cleaned = content.html_clean(
        '<p style="color:red;background:url(https://c.example/{name})" onmouseover="x()">'
        '<a href="/relative">r</a><a href="ftp://x.example/">f</a><a href="data:text/html,x">d</a>'
        '<svg><a href="https://x.example/">s</a></svg><iframe src="https://x.example/"></iframe>'
        "<!-- {name} --></p>"
    )
    assert cleaned.startswith('<p style="color:red"><a rel="noopener noreferrer">r</a>')
    for gone in ("url(", "onmouseover", "/relative", "ftp:", "data:", "svg", "iframe", "{name}"):
        assert gone not in cleaned, gone
