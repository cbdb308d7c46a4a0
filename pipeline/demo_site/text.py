"""Deterministic, natural-looking news text in English and French.

Sentences are assembled from large pools of subjects, verbs, objects, named entities, numbers and
quotes, so two articles share little more than function words: a near-duplicate detector must see
them as different, while one (seed, publisher, index) always gives the same text.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass


def _pool(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.strip().split("|") if item.strip())


# --- named entities ---------------------------------------------------------------------------

EN_FIRST = _pool("""
James|Mary|Robert|Patricia|John|Jennifer|Michael|Linda|David|Elizabeth|William|Barbara|Richard|
Susan|Joseph|Jessica|Thomas|Sarah|Charles|Karen|Daniel|Nancy|Matthew|Lisa|Anthony|Betty|Mark|
Sandra|Steven|Ashley|Andrew|Kimberly|Joshua|Emily|Kevin|Donna|Brian|Michelle|George|Carol|Ahmed|
Priya|Tomasz|Keiko|Olumide|Ingrid|Rafael|Mei|Declan|Fatima|Nikolai|Aisha|Hamish|Lucia|Kwame|Rosa
""")
EN_LAST = _pool("""
Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Hernandez|Lopez|Wilson|
Anderson|Thomas|Taylor|Moore|Jackson|Martin|Lee|Perez|Thompson|White|Harris|Sanchez|Clark|Ramirez|
Lewis|Robinson|Walker|Young|Allen|King|Wright|Scott|Torres|Nguyen|Hill|Flores|Green|Adams|Nelson|
Baker|Hall|Rivera|Campbell|Mitchell|Carter|Roberts|Okafor|Kowalski|Tanaka|Lindqvist|Haddad|Byrne|
Petrov|Mensah|Castellano|Fitzgerald|Abernathy|Whitcombe|Delacroix|Osei|Varga|Holloway|Pemberton
""")
EN_PLACES = _pool("""
Springfield|Riverton|Maple Falls|Port Alder|Easton|Granite City|Lakewood|Northbridge|Cedar Hollow|
Brookhaven|Fairmont|Ashford|Kingsport|Millbrook|Oakridge|Westfield|Harborview|Silverton|Pinecrest|
Redmond Valley|Clearwater|Stonegate|Bayside|Elmhurst|Foxborough|Glenwood|Hartley|Ironwood|
Juniper Bay|Kestrel Point|Linden|Marlow|Newhaven|Orchard Park|Pembrook|Quarry Hill|Rosemont|
Sheffield|Manchester|Bristol|Leeds|Glasgow|Cardiff|Belfast|Ohio|Texas|Oregon|Nevada|Vermont|
Ontario|Brussels|Lisbon|Nairobi|Jakarta|Santiago|Osaka|Warsaw|Dublin|Athens|Montreal
""")
EN_ORGS = _pool("""
the Department of Transportation|the county health board|Northwind Energy|Harbor Logistics|
the state university|the teachers' union|Meridian Bank|the Federal Reserve|the Treasury|
the Environmental Protection Agency|Orion Pharmaceuticals|Apex Motors|the city council|
the regional transit authority|Bluewater Utilities|the chamber of commerce|Helix Biotech|
the National Weather Service|the Office for National Statistics|the Bank of England|
Crestline Airlines|the port authority|Summit Telecom|Greenfield Farms Cooperative|
the fire department|the police federation|the housing association|Pioneer Steel|
the World Health Organization|the European Commission|Quantum Analytics|Redwood Capital|
the water board|the school district|the hospital trust|Atlas Shipping|Vantage Retail Group|
the Competition and Markets Authority|the Securities and Exchange Commission|Beacon Insurance
""")
EN_ROLES = _pool("""
a spokesperson for|the chief executive of|a senior economist at|the director of|a researcher at|
the chair of|a board member of|a former adviser to|the head of communications at|an analyst at|
the deputy mayor and liaison to|a lawyer representing|the finance chief of|a union organiser at
""")

FR_FIRST = _pool("""
Marie|Jean|Pierre|Sophie|Nathalie|Philippe|Isabelle|Nicolas|Catherine|Laurent|Valérie|Julien|
Camille|Thomas|Émilie|Antoine|Claire|Mathieu|Céline|Olivier|Aurélie|François|Hélène|Sébastien|
Lucie|Guillaume|Manon|Hugo|Léa|Karim|Yasmina|Mamadou|Chloé|Benoît|Sandrine|Théo|Inès|Rémi
""")
FR_LAST = _pool("""
Dubois|Martin|Bernard|Thomas|Petit|Robert|Richard|Durand|Leroy|Moreau|Simon|Laurent|Lefebvre|
Michel|Garcia|David|Bertrand|Roux|Vincent|Fournier|Morel|Girard|André|Mercier|Dupont|Lambert|
Bonnet|François|Martinez|Legrand|Garnier|Faure|Rousseau|Blanc|Guérin|Muller|Henry|Roussel|Nicolas|
Perrin|Morin|Mathieu|Clément|Gauthier|Dumont|Lopez|Fontaine|Chevalier|Robin|Benali|Diallo|Nguyen
""")
FR_PLACES = _pool("""
Lyon|Marseille|Toulouse|Nantes|Strasbourg|Bordeaux|Lille|Rennes|Grenoble|Montpellier|Dijon|
Angers|Nîmes|Clermont-Ferrand|Brest|Tours|Limoges|Amiens|Perpignan|Metz|Besançon|Orléans|Rouen|
Caen|Nancy|Avignon|Poitiers|La Rochelle|Annecy|Pau|Bayonne|Valence|Chambéry|Quimper|Colmar|Troyes
""")
FR_ORGS = _pool("""
la préfecture|le conseil régional|la SNCF|l'Insee|la Banque de France|le ministère de la Santé|
le syndicat des enseignants|la chambre de commerce|l'agence régionale de santé|Météo-France|
la Cour des comptes|le conseil départemental|la métropole|l'université|le tribunal administratif|
la fédération des agriculteurs|l'office de tourisme|la caisse d'allocations familiales|
le groupe Valmont|la société Aubert Énergie|la coopérative laitière|l'hôpital universitaire|
le comité d'entreprise|l'association des commerçants|la direction régionale des douanes
""")
FR_ROLES = _pool("""
porte-parole de|directeur de|directrice adjointe de|économiste à|chercheuse à|président de|
responsable syndicale à|conseiller municipal chargé des finances à|avocat de|secrétaire générale de
""")

# --- English sentence parts -------------------------------------------------------------------

EN_SUBJECTS = _pool("""
Officials|City leaders|The committee|Local residents|Investigators|Lawmakers|Opposition members|
The company|Regulators|Health authorities|Economists|Campaigners|Shareholders|Emergency crews|
The governor's office|Union leaders|Prosecutors|The ministry|Business owners|Several families|
Scientists|The mayor|Hospital managers|Parents|Commuters|Farmers|Engineers|Inspectors|
Council members|Tenants|Teachers|Nurses|Developers|Election officials|Police|Insurers|Judges|
Community groups|The school board|Airline executives
""")
EN_VERBS = _pool("""
announced|approved|rejected|postponed|criticised|defended|unveiled|questioned|welcomed|
announced plans for|raised concerns about|voted to delay|called for a review of|signed off on|
published details of|warned against|pushed back against|agreed to fund|launched an inquiry into|
secured funding for|scaled back|outlined|reversed course on|pledged to expand|struggled to explain|
quietly abandoned|began consulting on|promised to revisit|sought clarity on|moved to block
""")
EN_OBJECTS = _pool("""
a new transit budget|the proposed rent cap|a long-delayed bridge repair|the hospital expansion|
a plan to close two branch libraries|the tax relief package|new rules on short-term rentals|
the merger agreement|a pilot scheme for free school meals|the flood defence programme|
emergency powers for the water authority|the revised zoning map|a cap on bonus payments|
the contract with the waste operator|a new cycling network|the annual pay settlement|
the reopening of the rail line|a ban on single-use plastics|the wind farm application|
a review of police overtime|the rescue package for the steelworks|the stadium redevelopment|
stricter emissions targets|the sale of public land|a tenfold increase in fines|
a programme to retrofit older homes|the relocation of the central depot|a curfew for delivery vans|
changes to the pension scheme|a levy on empty properties|the digital identity project|
the overhaul of ambulance dispatch|the shortlist of contractors|plans for a second terminal|
a freeze on hiring|the new affordable housing quota|compensation for affected households
""")
EN_COMPLEMENTS = _pool("""
after a heated four-hour meeting|despite strong objections from neighbours|
ahead of next month's election|following months of negotiations|in a surprise move on Tuesday|
citing rising costs|amid growing pressure from campaigners|in a statement released late on Friday|
as the deadline approached|under a compromise reached overnight|after an independent audit|
in response to a wave of complaints|during a closed-door session|with little public debate|
after the figures were leaked to reporters|in a narrow vote|to the frustration of local businesses|
following a critical report by inspectors|as temperatures hit record levels|
without giving a timetable|
while promising further consultation|at the request of the regulator|in a letter seen by this paper|
only days after the previous plan collapsed|as costs climbed for a third straight year
""")
EN_STAT_NOUNS = _pool("""
unemployment rate|number of applications|average waiting time|cost of the project|
number of passengers|share price|inflation figure|volume of complaints|price of a typical home|
number of reported incidents|turnout|budget shortfall|rate of hospital admissions|energy bill
""")
EN_STAT_VERBS = _pool(
    "rose|fell|climbed|dropped|edged up|slipped|jumped|plunged|held steady at|reached"
)
EN_PERIODS = _pool("""
in the year to February|over the past quarter|since the start of the year|compared with last spring|
over the past decade|in the first two months of the year|since the scheme began|month on month
""")
EN_QUOTES = _pool("""
We have listened carefully and this is the right decision for the community|
Nobody expected the costs to rise this quickly|
This is a step in the right direction, but it is not enough|
Families deserve clear answers, and they deserve them now|We will not be rushed into a bad deal|
The evidence simply does not support that conclusion|
It has been a very difficult winter for everyone|
Our priority is to keep people safe while the work continues|
There is still a great deal of uncertainty|
I have never seen anything like it in thirty years|We are confident the numbers will improve|
This was avoidable, and people are right to be angry|
The details matter, and we are still working through them|
We were given almost no notice|It is too early to say what the long-term impact will be
""")
EN_TIME = _pool("""
On Monday|Earlier this week|Late on Thursday|In recent months|Last year|By the end of the month|
Since January|Over the weekend|On Wednesday morning|In the meantime|For now|Later this spring
""")
EN_CONNECT = _pool("""
However,|Meanwhile,|In addition,|Critics say|Supporters argue that|It is understood that|
Separately,|At the same time,|Even so,|As a result,|Under the proposal,|In practice,
""")
EN_CLAUSES = _pool("""
the scheme would be reviewed within six months|the final bill could be far higher|
the decision was taken without proper scrutiny|several departments had raised concerns|
funding would come from existing reserves|the timetable had already slipped twice|
the measure would affect thousands of households|talks would resume next week|
the plan had broad support among residents|the figures were broadly in line with forecasts|
the agreement contained a break clause|staff had not been consulted|
the project remained on budget|an appeal was likely|further details would be published shortly
""")

# Headlines
EN_H_VERBS = _pool("""
approves|rejects|delays|unveils|scraps|backs|defends|questions|expands|pauses|revives|
blocks|cuts|doubles|targets|probes|reviews|freezes|fast-tracks|reconsiders
""")
EN_H_OBJECTS = _pool("""
transit budget|rent cap|bridge repairs|hospital expansion|library closures|tax relief plan|
rules on short-term rentals|merger deal|free school meals pilot|flood defences|zoning map|
bonus cap|waste contract|cycling network|pay deal|rail line reopening|plastics ban|
wind farm plan|police overtime|steelworks rescue|stadium plan|emissions targets|land sale|
housing quota|pension changes|empty homes levy|ambulance dispatch overhaul|airport expansion|
school funding formula|water bills|bus routes|parking charges|care home inspections
""")
EN_H_TAILS = _pool("""
after heated debate|amid cost fears|as deadline looms|despite protests|in surprise vote|
after audit|as prices climb|following complaints|ahead of election|after months of talks|
as residents push back|in narrow vote|over safety concerns|as costs spiral|
""")

# --- French sentence parts --------------------------------------------------------------------

FR_SUBJECTS = _pool("""
Le maire|La préfète|Le gouvernement|La municipalité|Le conseil municipal|L'opposition|
Le syndicat|La direction de l'entreprise|Le ministre de l'Économie|La ministre de la Santé|
Le collectif d'habitants|Le parquet|L'agence régionale|Le président de la région|
La fédération patronale|Le rectorat|L'exécutif départemental|La commission d'enquête|
Le premier adjoint|La chambre d'agriculture|Le comité de quartier|L'intersyndicale|
Le groupe industriel|La cour d'appel|Le directeur de l'hôpital
""")
FR_VERBS = _pool("""
a annoncé|a présenté|a rejeté|a reporté|a critiqué|a défendu|a dévoilé|a remis en cause|
a salué|a validé|a suspendu|a contesté|a approuvé|a relancé|a enterré|a précisé|a détaillé|
a réclamé|a confirmé|a financé|a lancé|a revu à la baisse|a obtenu|a signé
""")
FR_OBJECTS = _pool("""
un nouveau plan de mobilité|la hausse des tarifs de cantine|le projet de tramway|
la fermeture de deux classes|un programme de rénovation des logements|la réforme du stationnement|
le budget primitif|la création d'une zone à faibles émissions|le rachat de l'usine|
un dispositif d'aide aux commerçants|le chantier de la rocade|la construction d'un nouveau collège|
l'extension de la piste cyclable|le plan de prévention des inondations|
la vente d'un terrain communal|
la fusion des deux intercommunalités|une enquête sur les marchés publics|le calendrier des travaux|
la réouverture de la ligne ferroviaire|le projet d'éoliennes en mer|la gratuité des transports|
une aide exceptionnelle aux agriculteurs|la réorganisation des urgences|
le plan de sauvegarde de l'emploi|
la nouvelle grille tarifaire de l'eau|le schéma de cohérence territoriale
""")
FR_COMPLEMENTS = _pool("""
lors d'une conférence de presse mardi|à l'issue d'un conseil houleux|
malgré l'opposition des riverains|
après plusieurs mois de négociations|à quelques semaines des élections|
en raison de la hausse des coûts|
dans un communiqué publié vendredi soir|sous la pression des associations|au terme d'un vote serré|
après un audit indépendant|sans fixer de calendrier précis|à la surprise générale|
selon un document consulté par notre rédaction|en marge d'un déplacement officiel|
pour la troisième année consécutive|à la demande du préfet|après la publication d'un rapport sévère
""")
FR_STAT_NOUNS = _pool("""
taux de chômage|nombre de demandes|délai d'attente moyen|coût du projet|nombre de voyageurs|
prix moyen du mètre carré|taux d'inflation|nombre de plaintes|taux de participation|déficit
""")
FR_STAT_VERBS = _pool("a augmenté de|a reculé de|a progressé de|a baissé de|a bondi de|a chuté de")
FR_PERIODS = _pool("""
sur un an|depuis le début de l'année|par rapport au printemps dernier|en dix ans|
au dernier trimestre|depuis la mise en place du dispositif
""")
FR_QUOTES = _pool("""
Nous avons écouté tout le monde et c'est la bonne décision|
Personne ne s'attendait à une telle hausse|
C'est un premier pas, mais ce n'est pas suffisant|Les familles ont droit à des réponses claires|
Nous ne signerons pas un mauvais accord|Les chiffres ne confirment pas cette analyse|
L'hiver a été très difficile pour tout le monde|Notre priorité reste la sécurité des habitants|
Il est trop tôt pour mesurer les conséquences|Je n'ai jamais vu ça en trente ans de carrière|
On nous a prévenus au dernier moment|Nous restons confiants pour la suite
""")
FR_TIME = _pool("""
Lundi|En début de semaine|Jeudi soir|Ces derniers mois|L'an dernier|D'ici la fin du mois|
Depuis janvier|Ce week-end|Mercredi matin|En attendant|Pour l'instant|Au printemps
""")
FR_CONNECT = _pool("""
Toutefois,|Par ailleurs,|En outre,|Selon ses détracteurs,|De leur côté, les partisans estiment que|
Dans les faits,|Parallèlement,|Pour autant,|En conséquence,|Concrètement,
""")
FR_CLAUSES = _pool("""
le dispositif sera réévalué dans six mois|la facture finale pourrait être bien plus lourde|
la décision a été prise sans véritable concertation|plusieurs services avaient exprimé des réserves|
le financement proviendra des réserves existantes|le calendrier a déjà glissé à deux reprises|
la mesure concernera des milliers de foyers|les discussions reprendront la semaine prochaine|
le projet reste dans l'enveloppe prévue|un recours est probable|de nouveaux détails seront publiés
""")
FR_H_SUBJECTS = _pool("""
la mairie|la région|le département|la préfecture|les syndicats|l'opposition|les riverains|
le gouvernement|l'entreprise|les commerçants|les agriculteurs|le rectorat|l'hôpital
""")
FR_H_VERBS = _pool("""
annonce|rejette|reporte|dévoile|suspend|conteste|valide|relance|abandonne|défend|réclame|enterre
""")

FR_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)


@dataclass(frozen=True, slots=True)
class Topic:
    """The handful of entities one article keeps coming back to, for coherence."""

    person: str
    role: str
    org: str
    place: str


def person_name(rng: random.Random, language: str) -> str:
    if language == "fr":
        return f"{rng.choice(FR_FIRST)} {rng.choice(FR_LAST)}"
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def topic(rng: random.Random, language: str) -> Topic:
    if language == "fr":
        return Topic(person_name(rng, "fr"), rng.choice(FR_ROLES), rng.choice(FR_ORGS),
                     rng.choice(FR_PLACES))
    return Topic(person_name(rng, "en"), rng.choice(EN_ROLES), rng.choice(EN_ORGS),
                 rng.choice(EN_PLACES))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(rng: random.Random, language: str) -> str:
    value = rng.choice((rng.randint(2, 95), round(rng.uniform(0.3, 19.9), 1)))
    text = str(value)
    if language == "fr":
        return text.replace(".", ",") + " %"
    return f"{text} per cent"


def _en_sentence(rng: random.Random, t: Topic) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        who = rng.choice((f"{t.person}, {t.role} {t.org}", t.person.split()[-1]))
        return f'"{rng.choice(EN_QUOTES)}," said {who}.'
    if kind == 1:
        return f"According to {rng.choice((t.org, rng.choice(EN_ORGS)))}, {rng.choice(EN_CLAUSES)}."
    if kind == 2:
        return (f"The {rng.choice(EN_STAT_NOUNS)} in {t.place} {rng.choice(EN_STAT_VERBS)} "
                f"{_number(rng, 'en')} {rng.choice(EN_PERIODS)}, {rng.choice(EN_ORGS)} said.")
    if kind == 3:
        return (f"{rng.choice(EN_TIME)}, {rng.choice(EN_SUBJECTS).lower()} in {t.place} "
                f"{rng.choice(EN_VERBS)} {rng.choice(EN_OBJECTS)}.")
    if kind == 4:
        return f"{rng.choice(EN_CONNECT)} {rng.choice(EN_CLAUSES)}."
    if kind == 5:
        last = t.person.split()[-1]
        return (f"{last} told reporters that {rng.choice(EN_CLAUSES)}, adding that "
                f"{rng.choice(EN_CLAUSES)}.")
    return (f"{rng.choice(EN_SUBJECTS)} {rng.choice(EN_VERBS)} {rng.choice(EN_OBJECTS)} "
            f"{rng.choice(EN_COMPLEMENTS)}.")


_FR_CONTRACTIONS = ((" à le ", " au "), (" de le ", " du "), (" à les ", " aux "),
                     (" de les ", " des "))


def _fr_contract(sentence: str) -> str:
    for wrong, right in _FR_CONTRACTIONS:
        sentence = sentence.replace(wrong, right)
    return sentence


def _fr_sentence(rng: random.Random, t: Topic) -> str:
    return _fr_contract(_fr_sentence_raw(rng, t))


def _fr_sentence_raw(rng: random.Random, t: Topic) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        who = rng.choice((f"{t.person}, {t.role} {t.org}", t.person))
        return f"« {rng.choice(FR_QUOTES)} », {rng.choice(('a déclaré', 'souligne'))} {who}."
    if kind == 1:
        return f"Selon {rng.choice((t.org, rng.choice(FR_ORGS)))}, {rng.choice(FR_CLAUSES)}."
    if kind == 2:
        return (f"À {t.place}, le {rng.choice(FR_STAT_NOUNS)} {rng.choice(FR_STAT_VERBS)} "
                f"{_number(rng, 'fr')} {rng.choice(FR_PERIODS)}, d'après {rng.choice(FR_ORGS)}.")
    if kind == 3:
        return (f"{rng.choice(FR_TIME)}, {rng.choice(FR_SUBJECTS)[0].lower()}"
                f"{rng.choice(FR_SUBJECTS)[1:]} de {t.place} {rng.choice(FR_VERBS)} "
                f"{rng.choice(FR_OBJECTS)}.")
    if kind == 4:
        return f"{rng.choice(FR_CONNECT)} {rng.choice(FR_CLAUSES)}."
    if kind == 5:
        last = t.person.split()[-1]
        return (f"{t.person.split()[0]} {last} assure que {rng.choice(FR_CLAUSES)}, "
                f"et ajoute que {rng.choice(FR_CLAUSES)}.")
    return (f"{rng.choice(FR_SUBJECTS)} {rng.choice(FR_VERBS)} {rng.choice(FR_OBJECTS)} "
            f"{rng.choice(FR_COMPLEMENTS)}.")


def paragraphs(rng: random.Random, language: str, t: Topic, lo: int = 4, hi: int = 12) -> list[str]:
    """lo..hi paragraphs of 1..6 sentences; short one-sentence paragraphs happen, as in news."""
    make = _fr_sentence if language == "fr" else _en_sentence
    seen: set[str] = set()

    def fresh() -> str:  # no sentence twice in one article: real copy does not stutter
        for _ in range(6):
            candidate = make(rng, t)
            if candidate not in seen:
                break
        seen.add(candidate)
        return candidate

    out = []
    for _ in range(rng.randint(lo, hi)):
        count = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
        out.append(" ".join(fresh() for _ in range(count)))
    return out


def headline(rng: random.Random, language: str, t: Topic) -> str:
    """A sentence-case headline (callers title-case it where the house style wants that)."""
    if language == "fr":
        return _fr_contract(_fr_headline(rng, t))
    kind = rng.randrange(4)
    obj = rng.choice(EN_H_OBJECTS)
    if kind == 0:
        return f"{t.place} council {rng.choice(EN_H_VERBS)} {obj} {rng.choice(EN_H_TAILS)}"
    if kind == 1:
        org = t.org.removeprefix("the ")
        return _cap(f"{org} {rng.choice(EN_H_VERBS)} {obj} {rng.choice(EN_H_TAILS)}")
    if kind == 2:
        return f"{t.person.split()[-1]} {rng.choice(EN_H_VERBS)} {obj} in {t.place}"
    return _cap(f"{obj} plan in {t.place} {rng.choice(('stalls', 'advances', 'faces scrutiny'))} "
                f"{rng.choice(EN_H_TAILS)}")


def _fr_headline(rng: random.Random, t: Topic) -> str:
    kind = rng.randrange(3)
    obj = rng.choice(FR_OBJECTS)
    if kind == 0:
        return f"{t.place} : {rng.choice(FR_H_SUBJECTS)} {rng.choice(FR_H_VERBS)} {obj}"
    if kind == 1:
        return _cap(f"{obj} : {rng.choice(FR_H_SUBJECTS)} {rng.choice(FR_H_VERBS)} le projet "
                    f"{rng.choice(FR_COMPLEMENTS)}")
    return _cap(f"{rng.choice(FR_H_SUBJECTS)} {rng.choice(FR_H_VERBS)} {obj} à {t.place}")


_SMALL = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}


def title_case(text: str) -> str:
    """House title case: capitalise every word except short function words (not the first)."""
    words = text.split(" ")
    return " ".join(
        w if (i and w.lower() in _SMALL) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def slugify(text: str, max_words: int = 8) -> str:
    """ASCII, lowercase, hyphenated: what CMSs put in article URLs."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words[:max_words]) or "article"


def french_date(moment, with_time: bool = True) -> str:
    """'12 mars 2026 à 14h30' (local time, no offset: what French sites print)."""
    day = "1er" if moment.day == 1 else str(moment.day)
    text = f"{day} {FR_MONTHS[moment.month - 1]} {moment.year}"
    return f"{text} à {moment.hour:02d}h{moment.minute:02d}" if with_time else text


def sentence(rng: random.Random, language: str, t: Topic) -> str:
    """One sentence of any kind (comments, asides)."""
    return _fr_sentence(rng, t) if language == "fr" else _en_sentence(rng, t)


def standfirst(rng: random.Random, language: str, t: Topic) -> str:
    """The one-sentence summary under a headline (og:description, JSON-LD description)."""
    if language == "fr":
        return _fr_contract(f"{rng.choice(FR_SUBJECTS)} de {t.place} {rng.choice(FR_VERBS)} "
                            f"{rng.choice(FR_OBJECTS)} {rng.choice(FR_COMPLEMENTS)}.")
    return (f"{rng.choice(EN_SUBJECTS)} in {t.place} {rng.choice(EN_VERBS)} "
            f"{rng.choice(EN_OBJECTS)} {rng.choice(EN_COMPLEMENTS)}.")
