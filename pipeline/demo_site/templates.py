"""HTML pages, feeds, sitemaps and robots.txt for the three demo publishers.

Each publisher has its own house template and metadata style, so extraction meets real variety:
Daily Planet is WordPress-like (JSON-LD `@graph`), Metro Herald writes OpenGraph and `article:*`
meta only, Le Courrier (French) writes no structured metadata at all. The heavy boilerplate
(menus, inline scripts, cookie banner, footer) is built once per publisher and origin, and pages
are assembled with plain string joins: one page costs well under a millisecond or two.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from xml.sax.saxutils import escape as xml_escape

from pipeline.demo_site import text
from pipeline.demo_site.model import (
    FEED_SIZE,
    SITEMAP_SIZE,
    Article,
    Catalogue,
    Listing,
    Publisher,
)


def t(value: str) -> str:
    """Escape a text node (quotes left alone, as most CMSs do)."""
    return escape(value, quote=False)


def a(value: str) -> str:
    """Escape an attribute value."""
    return escape(value, quote=True)


def x(value: str) -> str:
    return xml_escape(value)


# --- per-publisher routes -----------------------------------------------------------------------

ROUTES = {
    "jsonld": {
        "feed": "/feed/",
        "sitemap_index": "/sitemap_index.xml",
        "sitemap": "/post-sitemap{n}.xml",
        "news_sitemap": "/news-sitemap.xml",
        "listing": "/category/{section}/",
        "about": "/about/",
    },
    "opengraph": {
        "feed": "/feeds/all.atom",
        "sitemap_index": "/sitemaps/index.xml",
        "sitemap": "/sitemaps/articles-{n}.xml",
        "news_sitemap": "/sitemaps/news.xml",
        "listing": "/section/{section}/",
        "about": "/info/about-us",
    },
    "plain": {
        "feed": "/rss.xml",
        "sitemap_index": "/sitemap.xml",
        "sitemap": "/sitemaps/articles-{n}.xml",
        "news_sitemap": "/sitemap-news.xml",
        "listing": "/rubrique/{section}/",
        "about": "/qui-sommes-nous.html",
    },
}


def route(pub: Publisher, kind: str, **kw: object) -> str:
    return ROUTES[pub.style][kind].format(**kw)


def listing_path(pub: Publisher, section: str, page: int = 1) -> str:
    first = route(pub, "listing", section=section)
    return first if page == 1 else f"{first}page/{page}/"


def sitemap_path(pub: Publisher, n: int) -> str:
    """Child sitemap n (1-based); WordPress calls the first one post-sitemap.xml."""
    if pub.style == "jsonld" and n == 1:
        return "/post-sitemap.xml"
    return route(pub, "sitemap", n=n)


# --- date styles --------------------------------------------------------------------------------

def date_a(d: datetime) -> str:
    hour = d.hour % 12 or 12
    return f"{d:%B} {d.day}, {d.year} at {hour}:{d:%M} {'am' if d.hour < 12 else 'pm'}"


def date_b(d: datetime) -> str:
    return f"{d:%a} {d.day} {d:%b} {d.year} {d:%H.%M} {d:%Z}"


# --- static boilerplate -------------------------------------------------------------------------

SUBSECTIONS_EN = text._pool("""
Latest|Analysis|Opinion|Explainers|Investigations|Photos|Video|Podcasts|Live|Local|Regional|
Data|Interviews|Obituaries|Letters|Corrections|Archive
""")
SUBSECTIONS_FR = text._pool("""
À la une|Décryptage|Tribunes|Enquêtes|Photos|Vidéos|Podcasts|En direct|Région|Départements|
Chiffres|Entretiens|Nécrologie|Courrier des lecteurs|Archives
""")
FOOTER_EN = text._pool("""
About us|Contact us|Careers|Advertise with us|Terms of service|Privacy policy|Cookie settings|
Newsletters|Corrections|RSS feeds|Site map|Accessibility|Help centre|Subscribe|Gift subscriptions|
Manage my account|E-paper|Archive|Licensing|Syndication|Press office|Editorial code|Complaints|
Modern slavery statement|Our journalists|Puzzles|Weather|Traffic|Jobs|Dating|Shop|Events|
Facebook|X|Instagram|YouTube|LinkedIn|TikTok|WhatsApp channel|Apps|Podcasts|Tip us off
""")
FOOTER_FR = text._pool("""
Qui sommes-nous|Nous contacter|Recrutement|Publicité|Conditions générales|Données personnelles|
Gestion des cookies|Lettres d'information|Rectificatifs|Flux RSS|Plan du site|Accessibilité|
Aide|S'abonner|Offrir un abonnement|Mon compte|Journal numérique|Archives|Charte éditoriale|
Médiateur|Nos journalistes|Jeux|Météo|Annonces légales|Avis de décès|Boutique|Événements|
Facebook|X|Instagram|YouTube|LinkedIn|Applications
""")
COOKIE_EN = (
    "We and our 847 partners store and access information on your device, such as cookies, and "
    "process personal data, such as unique identifiers and standard information sent by a device, "
    "for personalised advertising and content, advertising and content measurement, audience "
    "research and services development. With your permission we and our partners may use precise "
    "geolocation data and identification through device scanning. You may click to consent to our "
    "and our partners' processing as described above. Alternatively you may access more detailed "
    "information and change your preferences before consenting or to refuse consenting."
)
COOKIE_FR = (
    "Avec votre accord, nos 847 partenaires et nous utilisons des cookies ou technologies "
    "similaires pour stocker et accéder à des informations personnelles comme votre visite sur ce "
    "site. Vous pouvez retirer votre consentement ou vous opposer aux traitements basés sur "
    "l'intérêt légitime à tout moment en cliquant sur « En savoir plus » ou dans notre politique "
    "de confidentialité sur ce site. Certains cookies sont nécessaires au fonctionnement du site."
)
CSS = (
    ":root{--brand:#0a3d62;--accent:#e55039;--text:#1e272e;--muted:#57606f}"
    "body{margin:0;font-family:Georgia,serif;color:var(--text)}"
    ".site-header{border-bottom:1px solid #ddd}.nav a{padding:4px 8px}"
    ".entry-content p,.article-body p,.texte p{line-height:1.6;font-size:1.1rem}"
    ".most-read ol{counter-reset:n}.cookie{position:fixed;bottom:0;background:#fff}"
    ".ad-slot{min-height:250px;background:#f4f4f4;text-align:center;color:#999}"
) * 6


def _state_script(pub: Publisher) -> str:
    """A big inline JSON blob like real sites ship (ad slots, experiments, menus): ~25 KB."""
    rng = random.Random(f"state/{pub.name}")
    slots = [
        {
            "id": f"div-gpt-ad-{rng.getrandbits(40):x}-{i}",
            "path": f"/2104{rng.randint(1000, 9999)}/{pub.name}/{rng.choice(pub.sections)[0]}",
            "sizes": rng.sample([[300, 250], [728, 90], [970, 250], [320, 50], [300, 600]], 2),
            "targeting": {"pos": f"mid{i}", "kw": rng.sample(text.EN_H_OBJECTS, 2)},
            "lazy": rng.random() < 0.5,
        }
        for i in range(60)
    ]
    experiments = {f"exp_{rng.getrandbits(24):06x}": rng.choice(["control", "variant"])
                   for _ in range(40)}
    state = {"site": pub.name, "slots": slots, "experiments": experiments,
             "consent": {"vendors": [rng.randint(1, 1200) for _ in range(300)]}}
    blob = json.dumps(state, separators=(",", ":"))
    return f"<script>window.__SITE_STATE__={blob};</script>"


ANALYTICS = (
    "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
    "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?"
    "'&l='+l:'';j.async=true;j.src='/js/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})"
    "(window,document,'script','dataLayer','GTM-DEMO42');</script>"
    "<script>window.addEventListener('load',function(){var b=document.querySelector('.cookie');"
    "if(b&&localStorage.getItem('consent')){b.remove();}});</script>"
)


class Boilerplate:
    """The per-publisher, per-origin constant parts of every page, built once."""

    def __init__(self, pub: Publisher, base: str) -> None:
        fr = pub.language == "fr"
        subs = SUBSECTIONS_FR if fr else SUBSECTIONS_EN
        prefix = base if pub.style == "jsonld" else ""  # WordPress links absolutely
        menu = []
        for slug, label in pub.sections:
            href = prefix + listing_path(pub, slug)
            items = "".join(
                f'<li class="menu-item"><a href="{href}?sub={text.slugify(s)}">{t(s)}</a></li>'
                for s in subs
            )
            menu.append(
                f'<li class="menu-item menu-item-has-children"><a href="{href}">{t(label)}</a>'
                f'<ul class="sub-menu">{items}</ul></li>'
            )
        self.nav = f'<nav class="nav main-navigation"><ul class="menu">{"".join(menu)}</ul></nav>'
        footer_items = FOOTER_FR if fr else FOOTER_EN
        links = "".join(
            f'<li><a href="{prefix}/{"info" if not fr else "pages"}/{text.slugify(s)}">{t(s)}</a>'
            f"</li>" for s in footer_items
        )
        year = "2026"
        rights = "Tous droits réservés" if fr else "All rights reserved"
        self.footer = (
            f'<footer class="site-footer"><div class="footer-links"><ul>{links}</ul></div>'
            f'<p class="copyright">© {year} {t(pub.display_name)}. {rights}.</p></footer>'
        )
        consent = "Accepter et fermer" if fr else "Accept all"
        refuse = "Continuer sans accepter" if fr else "Reject all"
        self.cookie = (
            f'<div class="cookie" role="dialog"><p>{t(COOKIE_FR if fr else COOKIE_EN)}</p>'
            f"<button>{consent}</button><button>{refuse}</button></div>"
        )
        self.head_extra = f"<style>{CSS}</style>{_state_script(pub)}{ANALYTICS}"
        self.base = base


# --- the renderer -------------------------------------------------------------------------------

class Renderer:
    """Renders one publisher's documents for one set of origins (`bases`: name -> base URL)."""

    def __init__(self, cat: Catalogue, name: str, bases: dict[str, str]) -> None:
        self.cat = cat
        self.pub = cat.by_name[name]
        self.name = name
        self.bases = bases
        self.base = bases[name]
        self.bp = Boilerplate(self.pub, self.base)

    # urls
    def url(self, index: int) -> str:
        return self.base + self.cat.article(self.name, index).path

    def href(self, index: int) -> str:
        """Links as this publisher writes them: absolute for WordPress, relative otherwise."""
        path = self.cat.article(self.name, index).path
        return self.base + path if self.pub.style == "jsonld" else path

    def _link_list(self, indices: tuple[int, ...] | range, cls: str) -> str:
        items = "".join(
            f'<li><a href="{a(self.href(i))}">{t(self.cat.article(self.name, i).title)}</a></li>'
            for i in indices
        )
        return f'<ol class="{cls}">{items}</ol>'

    def _most_read(self, key: str) -> str:
        label = {"jsonld": "Most Read", "opengraph": "Most viewed", "plain": "Les plus lus"}
        return (
            f'<aside class="widget most-read"><h2>{label[self.pub.style]}</h2>'
            f"{self._link_list(self.cat.most_read(self.name, key), 'most-read-list')}</aside>"
        )

    # pages
    def _page(self, title: str, head: str, body: str, body_class: str) -> str:
        pub = self.pub
        lang = {"jsonld": "en-US", "opengraph": "en-GB", "plain": "fr"}[pub.style]
        header = self._header()
        trailer = ""
        if pub.style == "jsonld":
            trailer = (
                '<div class="amp-mobile-version-switcher"><a rel="nofollow" '
                f'href="{self.base}/?amp=1">Exit mobile version</a></div>'
            )
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{t(title)}</title>{head}{self.bp.head_extra}</head>"
            f'<body class="{body_class}">{header}<div id="content" class="site-content">{body}'
            f"</div>{self.bp.footer}{trailer}{self.bp.cookie}</body></html>"
        )

    def _header(self) -> str:
        pub = self.pub
        home = self.base + "/" if pub.style == "jsonld" else "/"
        if pub.style == "jsonld":
            return (
                '<a class="skip-link screen-reader-text" href="#content">Skip to content</a>'
                f'<header class="site-header"><p class="site-title"><a href="{home}" rel="home">'
                f'Daily Planet</a></p><p class="site-description">News you can trust, since 1938'
                f"</p>{self.bp.nav}</header>"
            )
        if pub.style == "opengraph":
            return (
                '<div class="top-banner-ad"><span>Advertisement</span></div>'
                f'<header class="site-header"><a class="logo" href="{home}">Metro Herald</a>'
                '<a class="support" href="/support">Support the Herald</a>'
                f"{self.bp.nav}</header>"
            )
        return (
            '<div class="bandeau-pub">Publicité</div>'
            f'<header class="entete"><a class="logo" href="{home}">Le Courrier</a>'
            '<a class="abonnement" href="/abonnement.html">Abonnez-vous à partir de 1 € le premier '
            f"mois</a>{self.bp.nav}</header>"
        )

    def site_title(self, headline: str) -> str:
        style = self.pub.style
        if style == "jsonld":
            return f"{headline} | Daily Planet"
        if style == "opengraph":
            return f"Metro Herald - {headline}"
        return f"{headline} \u2013 Le Courrier"  # en dash, as French sites write it

    # --- articles -----------------------------------------------------------------------------

    def article_page(self, index: int) -> str:
        art = self.cat.article(self.name, index)
        if self.pub.style == "jsonld":
            return self._article_a(art)
        if self.pub.style == "opengraph":
            return self._article_b(art)
        return self._article_c(art)

    def _canonical(self, art: Article) -> str:
        if art.copy_of:
            orig_pub, orig_index = art.copy_of
            return self.bases[orig_pub] + self.cat.article(orig_pub, orig_index).path
        return self.base + art.path

    def _image(self, art: Article) -> str:
        return self.bases[art.image_base or self.name] + art.image_path

    def _paragraphs(self, art: Article, ad_label: str, aside: str = "") -> str:
        out = []
        for n, para in enumerate(art.paragraphs):
            out.append(f"<p>{t(para)}</p>")
            if n == 1 and aside:
                out.append(aside)
            if n == 2:
                out.append(f'<div class="ad-slot"><span>{ad_label}</span></div>')
        return "".join(out)

    def _related(self, art: Article, heading: str) -> str:
        return (
            f'<section class="related"><h2>{t(heading)}</h2>'
            f"{self._link_list(art.related, 'related-list')}</section>"
        )

    def _comments(self, art: Article, heading: str) -> str:
        items = "".join(
            f'<li class="comment"><p class="comment-author">{t(who)}</p>'
            f'<div class="comment-body"><p>{t(said)}</p></div></li>'
            for who, said in art.comments
        )
        return (
            f'<div id="comments" class="comments-area"><h2>{len(art.comments)} {heading}</h2>'
            f'<ol class="comment-list">{items}</ol></div>'
        )

    def _article_a(self, art: Article) -> str:
        url = self.base + art.path
        image = self._image(art)
        org = {"@type": "Organization", "@id": f"{self.base}/#organization",
               "name": "Daily Planet", "url": f"{self.base}/",
               "logo": {"@type": "ImageObject", "url": f"{self.base}/logo.png"}}
        news: dict[str, object] = {
            "@type": "NewsArticle", "@id": f"{url}#article",
            "isPartOf": {"@id": f"{url}#webpage"},
            "headline": art.title, "description": art.description,
            "author": [{"@type": "Person", "name": n,
                        "url": f"{self.base}/author/{text.slugify(n)}/"} for n in art.authors],
            "datePublished": art.published_at.isoformat(),
            "mainEntityOfPage": {"@id": f"{url}#webpage"},
            "publisher": {"@id": f"{self.base}/#organization"},
            "image": {"@type": "ImageObject", "url": image, "width": 1200, "height": 800},
            "articleSection": [art.section_label], "keywords": list(art.tags),
            "inLanguage": "en-US", "wordCount": sum(len(p.split()) for p in art.paragraphs),
        }
        if art.modified_at:
            news["dateModified"] = art.modified_at.isoformat()
        if art.is_paywalled:
            news["isAccessibleForFree"] = False
            news["hasPart"] = {"@type": "WebPageElement", "isAccessibleForFree": False,
                               "cssSelector": ".paywall"}
        graph = {"@context": "https://schema.org", "@graph": [
            news,
            {"@type": "WebPage", "@id": f"{url}#webpage", "url": url, "name": art.title,
             "isPartOf": {"@id": f"{self.base}/#website"},
             "breadcrumb": {"@id": f"{url}#breadcrumb"}},
            {"@type": "BreadcrumbList", "@id": f"{url}#breadcrumb", "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home", "item": f"{self.base}/"},
                {"@type": "ListItem", "position": 2, "name": art.section_label,
                 "item": self.base + listing_path(self.pub, art.section)},
                {"@type": "ListItem", "position": 3, "name": art.title}]},
            {"@type": "WebSite", "@id": f"{self.base}/#website", "url": f"{self.base}/",
             "name": "Daily Planet", "publisher": {"@id": f"{self.base}/#organization"},
             "inLanguage": "en-US"},
            org,
        ]}
        ld = json.dumps(graph, ensure_ascii=False).replace("</", "<\\/")
        head = (
            f'<link rel="canonical" href="{a(url)}">'
            '<meta property="og:locale" content="en_US">'
            '<meta property="og:type" content="article">'
            f'<meta property="og:title" content="{a(art.title)}">'
            f'<meta property="og:description" content="{a(art.description)}">'
            f'<meta property="og:url" content="{a(url)}">'
            f'<meta property="og:site_name" content="Daily Planet">'
            f'<meta property="og:image" content="{a(image)}">'
            f'<script type="application/ld+json" class="yoast-schema-graph">{ld}</script>'
        )
        byline = " and ".join(
            f'<a class="url fn n" rel="author" href="{self.base}/author/{text.slugify(n)}/">'
            f"{t(n)}</a>" for n in art.authors
        )
        updated = ""
        if art.modified_at:
            updated = (f' <time class="updated" datetime="{art.modified_at.isoformat()}">Updated '
                       f"{date_a(art.modified_at)}</time>")
        tags = ", ".join(
            f'<a href="{self.base}/tag/{text.slugify(tag)}/" rel="tag">{t(tag)}</a>'
            for tag in art.tags
        )
        read_more = ""
        if art.related:
            other = self.cat.article(self.name, art.related[0])
            read_more = (f'<aside class="read-more"><strong>Read more:</strong> '
                         f'<a href="{a(self.href(other.index))}">{t(other.title)}</a></aside>')
        paywall = ""
        if art.is_paywalled:
            paywall = (
                '<div class="paywall"><h3>Subscribe to continue reading</h3><p>Get unlimited '
                "access to Daily Planet journalism for $1 a week. Cancel anytime.</p>"
                f'<a class="button" href="{self.base}/subscribe/">Subscribe now</a>'
                '<p>Already a subscriber? <a href="/login/">Log in</a></p></div>'
            )
        body = (
            f'<div id="primary" class="content-area"><main id="main" class="site-main">'
            f'<article id="post-{art.id}" class="post-{art.id} post type-post status-publish">'
            f'<header class="entry-header"><span class="cat-links"><a href="'
            f'{self.base}{listing_path(self.pub, art.section)}" rel="category tag">'
            f"{t(art.section_label)}</a></span>"
            f'<h1 class="entry-title">{t(art.title)}</h1>'
            f'<div class="entry-meta"><span class="byline">By <span class="author vcard">{byline}'
            f'</span></span> <span class="posted-on"><time class="entry-date published" '
            f'datetime="{art.published_at.isoformat()}">{date_a(art.published_at)}</time>'
            f"{updated}</span></div></header>"
            f'<figure class="post-thumbnail"><img src="{a(self._image(art))}" width="1200" '
            f'height="800" alt="{a(art.title)}"><figcaption>Photo: Daily Planet staff'
            f"</figcaption></figure>"
            f'<div class="entry-content">{self._paragraphs(art, "Advertisement", read_more)}'
            f"{paywall}</div>"
            f'<footer class="entry-footer"><span class="tags-links">Tags: {tags}</span>'
            f'<div class="share">Share this: <a href="#">Facebook</a> <a href="#">X</a> '
            f'<a href="#">Email</a></div></footer></article>'
            f'{self._related(art, "Related")}{self._comments(art, "thoughts on this story")}'
            f'</main></div><div id="secondary" class="widget-area">'
            f'{self._most_read(f"a{art.index}")}</div>'
        )
        return self._page(self.site_title(art.title), head, body,
                          "post-template-default single single-post")

    def _article_b(self, art: Article) -> str:
        canonical = self._canonical(art)
        image = self._image(art)
        meta = [
            f'<meta name="description" content="{a(art.description)}">',
            f'<link rel="canonical" href="{a(canonical)}">',
            '<meta property="og:type" content="article">',
            '<meta property="og:site_name" content="Metro Herald">',
            f'<meta property="og:title" content="{a(art.title)}">',
            f'<meta property="og:description" content="{a(art.description)}">',
            f'<meta property="og:url" content="{a(self.base + art.path)}">',
            f'<meta property="og:image" content="{a(image)}">',
            f'<meta property="article:published_time" content="{art.published_at.isoformat()}">',
        ]
        if art.modified_at:
            meta.append(f'<meta property="article:modified_time" '
                        f'content="{art.modified_at.isoformat()}">')
        meta += [f'<meta property="article:author" content="{a(n)}">' for n in art.authors]
        meta.append(f'<meta property="article:section" content="{a(art.section_label)}">')
        meta += [f'<meta property="article:tag" content="{a(tag)}">' for tag in art.tags]
        meta.append('<meta name="twitter:card" content="summary_large_image">')
        byline = " and ".join(
            f'<a rel="author" href="/profile/{text.slugify(n)}">{t(n)}</a>' for n in art.authors
        )
        modified = ""
        if art.modified_at:
            modified = (f'<p class="modified">Last modified on <time datetime="'
                        f'{art.modified_at.isoformat()}">{date_b(art.modified_at)}</time></p>')
        credit = ""
        if art.copy_of:
            credit = (f'<p class="syndication-credit"><em>This article originally appeared on '
                      f'<a href="{a(canonical)}">Daily Planet</a>.</em></p>')
        signup = (
            '<aside class="newsletter-signup"><p><strong>Sign up to the Metro Herald morning '
            "briefing</strong></p><p>Free newsletter. Our editors' pick of the day's stories, "
            'every weekday at 7am.</p><form><input type="email" placeholder="Email address">'
            "<button>Sign up</button></form></aside>"
        )
        body = (
            f'<main class="article-page"><article><div class="content__labels">'
            f'<a href="{listing_path(self.pub, art.section)}">{t(art.section_label)}</a></div>'
            f'<h1 class="headline">{t(art.title)}</h1>'
            f'<div class="standfirst"><p>{t(art.description)}</p></div>'
            f'<figure class="media"><img src="{a(image)}" alt=""><figcaption>Photograph: '
            f"Metro Herald</figcaption></figure>"
            f'<div class="meta"><address>By {byline}</address>'
            f'<time datetime="{art.published_at.isoformat()}">{date_b(art.published_at)}</time>'
            f"{modified}</div>"
            f'<div class="article-body">{self._paragraphs(art, "Advertisement", signup)}</div>'
            f"{credit}"
            f'<div class="submeta"><ul class="keywords">'
            + "".join(f'<li><a href="/topic/{text.slugify(tag)}">{t(tag)}</a></li>'
                      for tag in art.tags)
            + f"</ul></div></article>{self._related(art, 'More on this story')}</main>"
            f'{self._most_read(f"b{art.index}")}'
        )
        return self._page(self.site_title(art.title), "".join(meta), body, "article")

    def _article_c(self, art: Article) -> str:
        image = self._image(art)
        head = f'<meta name="description" content="{a(art.description)}">'
        byline = " et ".join(f'<span class="auteur">{t(n)}</span>' for n in art.authors)
        dates = f"Publié le {text.french_date(art.published_at)}"
        if art.modified_at:
            updated = text.french_date(art.modified_at)
            dates += f' <span class="maj">· Mis à jour le {updated}</span>'
        tags = " ".join(f'<a href="/mot-cle/{text.slugify(tag)}/">{t(tag)}</a>' for tag in art.tags)
        body = (
            f'<div class="fil-ariane"><a href="/">Accueil</a> &gt; '
            f'<a href="{listing_path(self.pub, art.section)}">{t(art.section_label)}</a></div>'
            f'<div class="article"><h1>{t(art.title)}</h1><p class="chapo">{t(art.description)}'
            f'</p><div class="signature">Par {byline}</div><div class="dates">{dates}</div>'
            f'<figure><img src="{a(image)}" alt=""><figcaption>© Le Courrier</figcaption></figure>'
            f'<div class="texte">{self._paragraphs(art, "Publicité")}</div>'
            f'<div class="mots-cles">Mots-clés : {tags}</div></div>'
            f'{self._related(art, "À lire aussi")}{self._comments(art, "réactions")}'
            f'{self._most_read(f"c{art.index}")}'
        )
        return self._page(self.site_title(art.title), head, body, "page-article")

    # --- other pages --------------------------------------------------------------------------

    def listing_page(self, listing: Listing) -> str:
        pub = self.pub
        label = dict(pub.sections)[listing.section]
        head = ""
        nav = ""
        if listing.page > 1:
            prev = self.base + listing_path(pub, listing.section, listing.page - 1)
            head += f'<link rel="prev" href="{prev}">'
            nav += f'<a class="prev page-numbers" rel="prev" href="{prev}">« Previous</a> '
        if listing.page < listing.pages:
            nxt = self.base + listing_path(pub, listing.section, listing.page + 1)
            head += f'<link rel="next" href="{nxt}">'
            nav += f'<a class="next page-numbers" rel="next" href="{nxt}">Next »</a>'
        featured = ""
        if listing.featured_special == "live":
            featured = (f'<div class="live-banner"><span>LIVE</span> <a href="'
                        f'{self.base}{self.cat.live_path()}">Live updates: the latest news as it '
                        f"happens</a></div>")
        cards = "".join(self._card(i) for i in listing.articles)
        body = (
            f'<main class="archive"><h1 class="page-title">{t(label)}</h1>{featured}'
            f'<div class="cards">{cards}</div><nav class="pagination">{nav}</nav></main>'
            f'{self._most_read(f"{listing.section}/{listing.page}")}'
        )
        suffix = "" if listing.page == 1 else f" - Page {listing.page}"
        return self._page(self.site_title(f"{label}{suffix}"), head, body, "archive category")

    def _card(self, index: int) -> str:
        art = self.cat.article(self.name, index)
        when = art.published_at
        stamp = text.french_date(when) if self.pub.language == "fr" else (
            date_a(when) if self.pub.style == "jsonld" else date_b(when))
        return (
            f'<article class="card"><h2 class="card-title"><a href="{a(self.href(index))}">'
            f"{t(art.title)}</a></h2><p class=\"card-summary\">{t(art.description)}</p>"
            f'<p class="card-meta">{t(", ".join(art.authors))} · {stamp}</p></article>'
        )

    def home_page(self) -> str:
        cards = "".join(self._card(i) for i in self.cat.latest(self.name, 30))
        most_read = self._most_read("home")
        body = f'<main class="home"><div class="cards">{cards}</div></main>{most_read}'
        site = self.pub.display_name
        title = {"jsonld": f"{site} | News you can trust", "opengraph": f"{site} - Latest news",
                 "plain": f"{site} \u2013 Toute l'actualité"}[self.pub.style]
        return self._page(title, "", body, "home")

    def about_page(self) -> str:
        fr = self.pub.language == "fr"
        heading = "Qui sommes-nous" if fr else "About us"
        lines = (
            ("Le Courrier est un quotidien régional indépendant fondé en 1946.",
             "Notre rédaction compte 120 journalistes répartis dans 14 agences.")
            if fr else
            (f"{self.pub.display_name} is an independent newsroom.",
             "Our journalists cover local, national and world news every day.")
        )
        body = (f'<main class="page"><h1>{heading}</h1>'
                + "".join(f"<p>{t(line)}</p>" for line in lines) + "</main>")
        return self._page(self.site_title(heading), "", body, "page")

    def live_page(self) -> str:
        """Matches the article URL pattern but is a live-blog shell: a few short lines, no body."""
        head = f'<link rel="canonical" href="{self.base}{self.cat.live_path()}">'
        body = (
            '<main class="liveblog"><h1>Live updates: the latest news as it happens</h1>'
            "<p>This page refreshes automatically.</p>"
            '<ul class="live-entries"><li>10:42 Loading latest updates…</li>'
            "<li>Follow our reporters for more.</li></ul></main>"
        )
        return self._page(self.site_title("Live updates"), head, body, "liveblog")

    def tag_page(self, tag: str) -> str:
        body = (f'<main class="archive"><h1 class="page-title">Tag: {t(tag)}</h1>'
                f"<p>Stories tagged {t(tag)}.</p></main>{self._most_read(f'tag/{tag}')}")
        return self._page(self.site_title(f"Tag: {tag}"), "", body, "archive tag")

    def not_found_page(self) -> str:
        fr = self.pub.language == "fr"
        heading = "Page introuvable" if fr else "Page not found"
        line = ("La page que vous cherchez n'existe pas ou a été déplacée." if fr else
                "Sorry, the page you were looking for could not be found.")
        body = f'<main class="error-404"><h1>{heading}</h1><p>{line}</p></main>'
        return self._page(self.site_title(heading), "", body, "error404")

    # --- discovery documents ------------------------------------------------------------------

    def robots(self) -> str:
        pub = self.pub
        disallow = {"jsonld": "/wp-admin/", "opengraph": "/search", "plain": "/recherche/"}
        return (
            f"User-agent: *\nDisallow: {disallow[pub.style]}\n\n"
            f"Sitemap: {self.base}{route(pub, 'sitemap_index')}\n"
            f"Sitemap: {self.base}{route(pub, 'news_sitemap')}\n"
        )

    def feed_entries(self) -> list[tuple[str, Article | None]]:
        """(absolute URL, article or None) in feed order, traps included."""
        out: list[tuple[str, Article | None]] = []
        for n, index in enumerate(self.cat.latest(self.name, FEED_SIZE)):
            art = self.cat.article(self.name, index)
            url = self.base + art.path
            if self.name == self.cat.redirect_publisher and index == self.cat.redirect_index:
                url = self.base + self.cat.redirect_path()
            out.append((url, art))
            if n == 2 and self.name == self.cat.not_found_publisher:
                out.append((self.base + self.cat.not_found_path(), None))
        return out

    def feed(self) -> str:
        if self.pub.style == "opengraph":
            return self._atom()
        return self._rss()

    def _rss(self) -> str:
        pub = self.pub
        entries = self.feed_entries()
        newest = self.cat.article(self.name, self.cat.counts[self.name] - 1).published_at
        items = []
        when = newest
        for url, art in entries:
            if art is None:  # the withdrawn story: a feed item whose page is gone (404)
                title, desc, who, when, section, guid = (
                    "Statement withdrawn pending review", "This story has been withdrawn.",
                    "Staff", when - timedelta(minutes=5), pub.sections[0][1], url)
            else:
                title, desc, who = art.title, art.description, ", ".join(art.authors)
                when, section = art.published_at, art.section_label
                guid = f"{self.base}/?p={art.id}"
            items.append(
                f"<item><title>{x(title)}</title><link>{x(url)}</link>"
                f"<dc:creator><![CDATA[{who}]]></dc:creator>"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<category><![CDATA[{section}]]></category>"
                f'<guid isPermaLink="false">{x(guid)}</guid>'
                f"<description><![CDATA[{desc}]]></description></item>"
            )
        lang = "fr-FR" if pub.language == "fr" else "en-US"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>{x(pub.display_name)}</title>"
            f'<atom:link href="{self.base}{route(pub, "feed")}" rel="self" '
            'type="application/rss+xml"/>'
            f"<link>{self.base}/</link><description>{x(pub.display_name)} news</description>"
            f"<lastBuildDate>{format_datetime(newest)}</lastBuildDate>"
            f"<language>{lang}</language>{''.join(items)}</channel></rss>\n"
        )

    def _atom(self) -> str:
        pub = self.pub
        entries = []
        newest = self.cat.article(self.name, self.cat.counts[self.name] - 1).published_at
        for url, art in self.feed_entries():
            assert art is not None
            updated = art.modified_at or art.published_at
            authors = "".join(f"<author><name>{x(n)}</name></author>" for n in art.authors)
            entries.append(
                f"<entry><title>{x(art.title)}</title>"
                f'<link rel="alternate" type="text/html" href="{x(url)}"/>'
                f"<id>tag:metroherald,2026:{art.id}</id>"
                f"<published>{art.published_at.isoformat()}</published>"
                f"<updated>{updated.isoformat()}</updated>{authors}"
                f'<category term="{x(art.section_label)}"/>'
                f"<summary>{x(art.description)}</summary></entry>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">'
            f"<title>{x(pub.display_name)}</title><id>{self.base}/</id>"
            f"<updated>{newest.isoformat()}</updated>"
            f'<link rel="self" href="{self.base}{route(pub, "feed")}"/>'
            f'<link rel="alternate" href="{self.base}/"/>{"".join(entries)}</feed>\n'
        )

    def sitemap_index(self) -> str:
        pub = self.pub
        parts = []
        for n in range(1, self.cat.sitemap_chunks(self.name) + 1):
            lastmod = self._chunk_lastmod(n)
            parts.append(f"<sitemap><loc>{self.base}{sitemap_path(pub, n)}</loc>"
                         f"<lastmod>{lastmod}</lastmod></sitemap>")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{''.join(parts)}</sitemapindex>\n"
        )

    def _chunk_lastmod(self, n: int) -> str:
        stop = min(n * SITEMAP_SIZE, self.cat.counts[self.name])
        return self.cat.published(self.name, stop - 1).isoformat()

    def sitemap_urls(self, n: int) -> list[tuple[str, str]]:
        """Child sitemap n's (URL, lastmod), oldest first, extras (the live page) at the end."""
        m = self.cat.counts[self.name]
        start = (n - 1) * SITEMAP_SIZE
        out = []
        for index in range(start, min(start + SITEMAP_SIZE, m)):
            art = self.cat.article(self.name, index)
            out.append((self.base + art.path, (art.modified_at or art.published_at).isoformat()))
        if n == self.cat.sitemap_chunks(self.name) and self.name == self.cat.live_publisher:
            out.append((self.base + self.cat.live_path(), self.cat.latest_time(self.name)))
        return out

    def sitemap(self, n: int) -> str:
        urls = "".join(
            f"<url><loc>{x(url)}</loc><lastmod>{lastmod}</lastmod></url>"
            for url, lastmod in self.sitemap_urls(n)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
        )

    def news_sitemap(self) -> str:
        pub = self.pub
        parts = []
        for index in self.cat.news_range(self.name):
            art = self.cat.article(self.name, index)
            parts.append(
                f"<url><loc>{x(self.base + art.path)}</loc><news:news><news:publication>"
                f"<news:name>{x(pub.display_name)}</news:name>"
                f"<news:language>{pub.language}</news:language></news:publication>"
                f"<news:publication_date>{art.published_at.isoformat()}</news:publication_date>"
                f"<news:title>{x(art.title)}</news:title></news:news></url>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{''.join(parts)}</urlset>\n"
        )
