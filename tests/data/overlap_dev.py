"""Development labelled pairs: the part the scorer's weights were tuned on.

Labelled by the same rule as the held-out part: an overlap is the same aim, for the same
people, in the same place, at the same time (times that coincide, if only partly).
"""

from __future__ import annotations

from .overlap_support import Act, Pair, once, vary, wk

# -- language ------------------------------------------------------------------------------------

taalcafe = Act(
    "Stichting Al Amal",
    "Taalcafé Schalkwijk",
    "Elke dinsdagavond oefenen anderstaligen Nederlands met vrijwilligers, aan tafels met een"
    " kop koffie. Alle niveaus zijn welkom.",
    ("language", "integration"),
    ("anderstaligen", "nieuwkomers"),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("di", "19:00", "21:00", "2026-03-03", "2026-06-30"),
    "Buurthuis De Til",
)
taal_cafe = Act(
    "Bibliotheek Haarlem",
    "Taal café",
    "Praat Nederlands in een ontspannen sfeer. Voor iedereen die de taal wil oefenen.",
    ("language",),
    ("anderstaligen",),
    ("schalkwijk",),
    ("nl",),
    wk("di", "19:30", "21:00", "2026-01-13", "2026-12-15"),
    "Bibliotheek Schalkwijk",
)
taallessen = Act(
    "Syrisch Huis Haarlem",
    "Taallessen Nederlands",
    "Taallessen voor nieuwkomers: grammatica, woordenschat en spreken. Kleine groepen, ervaren"
    " docenten.",
    ("language", "integration", "education"),
    ("nieuwkomers", "statushouders"),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("di", "19:00", "21:00", "2026-04-07", "2026-06-30"),
)
taalles_ochtend = vary(taallessen, when=wk("di", "09:30", "11:30", "2026-04-07", "2026-06-30"))
taalmaatje = Act(
    "Humanitas Haarlem",
    "Taalmaatjes koppelen",
    "Wij koppelen een vrijwillige taalmaatje aan een nieuwkomer; je spreekt wekelijks af waar"
    " het jullie uitkomt.",
    ("language", "integration"),
    ("nieuwkomers",),
    (),
    ("nl",),
    wk("ma", "10:00", "11:00", "2026-01-05", "2026-12-14"),
)
spreekvaardigheid = Act(
    "Vrouwen van Oost",
    "Nederlands spreken voor vrouwen",
    "Oefenen met spreken: boodschappen doen, de huisarts bellen, een oudergesprek op school.",
    ("language", "women"),
    ("vrouwen",),
    ("oost",),
    ("nl", "tr"),
    wk("do", "09:30", "11:30", "2026-01-08", "2026-06-25"),
)
taal_oost_do = Act(
    "Buurtwerk Haarlem",
    "Taalles voor moeders",
    "Moeders leren Nederlands terwijl de kinderen op school zijn. Met oppas voor de kleintjes.",
    ("language", "women", "parenting"),
    ("moeders",),
    ("oost",),
    ("nl",),
    wk("do", "09:00", "11:00", "2026-02-05", "2026-06-25"),
)
taal_noord = Act(
    "Stichting Leerkracht Noord",
    "Taalcafé Delftwijk",
    "Nederlands oefenen met buren; koffie en thee staan klaar.",
    ("language",),
    ("anderstaligen",),
    ("noord",),
    ("nl",),
    wk("di", "19:00", "21:00", "2026-03-03", "2026-06-30"),
)
engels = Act(
    "Stichting Mama Afrika Haarlem",
    "English conversation club",
    "Practise your English with native speakers, every Tuesday evening.",
    ("language",),
    ("volwassenen",),
    ("schalkwijk",),
    ("en",),
    wk("di", "19:00", "21:00", "2026-03-03", "2026-06-30"),
)
lezen_schrijven = Act(
    "Taalhuis Haarlem",
    "Beter leren lezen en schrijven",
    "Cursus voor Nederlanders die moeite hebben met lezen en schrijven (laaggeletterdheid).",
    ("language", "education"),
    ("laaggeletterden",),
    ("schalkwijk",),
    ("nl",),
    wk("di", "19:00", "21:00", "2026-03-03", "2026-06-30"),
)

# -- homework and youth --------------------------------------------------------------------------

huiswerk = Act(
    "Turks Cultureel Centrum Haarlem",
    "Huiswerkbegeleiding",
    "Leerlingen van de middelbare school krijgen hulp bij plannen, huiswerk maken en leren"
    " voor toetsen.",
    ("education", "youth"),
    ("scholieren", "jongeren"),
    ("schalkwijk",),
    ("nl", "tr"),
    wk("ma,wo", "16:00", "18:00", "2026-01-05", "2026-07-08"),
)
huiswerk_hulp = Act(
    "Stichting Al Amal",
    "Hulp bij huiswerk voor brugklassers",
    "Vrijwillige studenten helpen jongeren met hun huiswerk en het maken van een planning.",
    ("education", "youth"),
    ("jongeren",),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("wo", "16:30", "18:00", "2026-02-04", "2026-06-24"),
)
huiswerk_basis = Act(
    "Buurtwerk Haarlem",
    "Huiswerkclub basisschool",
    "Kinderen van groep 5 tot 8 maken hun huiswerk met hulp van vrijwilligers.",
    ("education", "youth"),
    ("kinderen",),
    ("schalkwijk",),
    ("nl",),
    wk("wo", "16:00", "17:30", "2026-01-07", "2026-06-24"),
)
examen = Act(
    "Eritrese Gemeenschap Haarlem",
    "Examentraining eindexamenleerlingen",
    "Intensieve training voor leerlingen die dit jaar eindexamen doen.",
    ("education", "youth"),
    ("scholieren",),
    ("schalkwijk",),
    ("nl", "ti"),
    wk("za", "10:00", "13:00", "2026-03-07", "2026-05-09"),
)
jongerenwerk = Act(
    "Buurtwerk Haarlem",
    "Jongerenavond Schalkwijk",
    "Chillen, gamen, praten met jongerenwerkers en meedenken over activiteiten in de wijk.",
    ("youth", "participation"),
    ("jongeren",),
    ("schalkwijk",),
    ("nl",),
    wk("vr", "19:00", "22:00", "2026-01-09", "2026-12-18"),
)
jongerencafe = Act(
    "Stichting Al Amal",
    "Jongerencafé",
    "Een plek voor jongeren om te ontmoeten, te praten over hun toekomst en samen dingen te"
    " organiseren.",
    ("youth",),
    ("jongeren",),
    ("schalkwijk",),
    ("nl",),
    wk("vr", "19:30", "22:00", "2026-02-06", "2026-06-26"),
)
meidenclub = Act(
    "Vrouwencentrum Schalkwijk",
    "Meidenclub",
    "Meiden van 10 tot 15 doen creatieve activiteiten, praten over wat hen bezighoudt en"
    " worden weerbaarder.",
    ("youth", "women"),
    ("meiden",),
    ("schalkwijk",),
    ("nl",),
    wk("vr", "19:00", "21:00", "2026-01-09", "2026-06-26"),
)
kinderknutsel = Act(
    "Stichting Mama Afrika Haarlem",
    "Knutselmiddag voor kinderen",
    "Kinderen maken maskers en sieraden met materialen uit West-Afrika.",
    ("culture", "youth"),
    ("kinderen",),
    ("noord",),
    ("nl", "en"),
    once("2026-05-13 14:00", "2026-05-13 16:00"),
)
knutsel2 = Act(
    "Buurtwerk Haarlem",
    "Creatieve woensdag",
    "Knutselen, tekenen en schilderen voor kinderen van 4 tot 12 in het buurthuis in Noord.",
    ("culture", "youth"),
    ("kinderen",),
    ("noord",),
    ("nl",),
    wk("wo", "14:00", "16:00", "2026-01-07", "2026-06-24"),
)

# -- festivities -------------------------------------------------------------------------------

suikerfeest = Act(
    "Stichting Al Amal",
    "Suikerfeest in de wijk",
    "Na de Ramadan vieren we het Suikerfeest met de hele buurt: hapjes, muziek en activiteiten"
    " voor kinderen.",
    ("culture", "faith", "participation"),
    ("buurtbewoners", "gezinnen"),
    ("schalkwijk",),
    ("nl", "ar"),
    once("2026-03-21 12:00", "2026-03-21 17:00"),
)
bayram = Act(
    "Turks Cultureel Centrum Haarlem",
    "Ramazan Bayramı feest",
    "Feest ter afsluiting van de vastenmaand met Turkse lekkernijen, muziek en spelletjes voor"
    " de kinderen.",
    ("culture", "faith"),
    ("gezinnen", "kinderen"),
    ("schalkwijk",),
    ("tr", "nl"),
    once("2026-03-21 14:00", "2026-03-21 18:00"),
)
offerfeest = Act(
    "Moskee Mescid-i Aksa",
    "Offerfeest",
    "Viering van het Offerfeest (Eid al-Adha) met gebed en een gezamenlijke maaltijd.",
    ("faith", "culture"),
    ("gezinnen",),
    ("schalkwijk",),
    ("tr", "ar", "nl"),
    once("2026-05-27 10:00", "2026-05-27 15:00"),
)
iftar = Act(
    "Syrisch Huis Haarlem",
    "Iftar met de buren",
    "Samen het vasten breken met buren, vrienden en iedereen die nieuwsgierig is.",
    ("faith", "culture", "participation"),
    ("buurtbewoners",),
    ("schalkwijk",),
    ("ar", "nl"),
    once("2026-03-12 18:00", "2026-03-12 21:00"),
)
iftar2 = Act(
    "Marokkaanse Vrouwenvereniging Haarlem",
    "Ramadanmaaltijd voor iedereen",
    "Open vastenmaaltijd (iftar) in Schalkwijk: soep, dadels, couscous. Neem je buren mee!",
    ("faith", "culture"),
    ("iedereen",),
    ("schalkwijk",),
    ("nl", "ar", "ber"),
    once("2026-03-12 18:30", "2026-03-12 22:00"),
)
iftar_serie = Act(
    "Moskee Mescid-i Aksa",
    "Dagelijkse iftar in de moskee",
    "Iedere avond van de Ramadan breken we samen het vasten in de moskee.",
    ("faith",),
    ("gelovigen", "buurtbewoners"),
    ("schalkwijk",),
    ("tr", "ar", "nl"),
    wk("ma,di,wo,do,vr,za,zo", "18:00", "21:00", "2026-02-19", "2026-03-19"),
)
ketikoti_nacht = Act(
    "Surinaamse Vereniging Wi Na Wan",
    "Keti Koti nacht",
    "De nacht van 30 juni op 1 juli herdenken we het slavernijverleden: om middernacht breken"
    " de ketenen, daarna muziek en dans tot in de kleine uurtjes.",
    ("culture",),
    ("iedereen",),
    ("centrum",),
    ("nl", "srn"),
    once("2026-06-30 22:00", "2026-07-01 02:00"),
)
ketikoti_dialoog = Act(
    "Stichting Sranan Haarlem",
    "Keti Koti dialoogtafel",
    "Op 30 juni 's avonds gesprekken aan tafel over het slavernijverleden en de doorwerking"
    " ervan vandaag, gevolgd door het aftellen naar middernacht.",
    ("culture", "participation"),
    ("iedereen",),
    ("centrum",),
    ("nl",),
    once("2026-06-30 19:00", "2026-06-30 23:30"),
)
ketikoti_middag = Act(
    "Buurtwerk Haarlem",
    "Herdenking afschaffing slavernij",
    "Herdenkingsbijeenkomst op 1 juli met bloemlegging en muziek bij het monument.",
    ("culture",),
    ("iedereen",),
    ("centrum",),
    ("nl",),
    once("2026-07-01 11:00", "2026-07-01 13:00"),
)
oudjaar = Act(
    "Buurtwerk Haarlem",
    "Oudejaarsavond in het buurthuis",
    "Samen oliebollen eten en het nieuwe jaar inluiden, voor wie niet alleen wil zijn.",
    ("welfare", "participation"),
    ("buurtbewoners", "alleenstaanden"),
    ("zuid-west",),
    ("nl",),
    once("2026-12-31 20:00", "2027-01-01 01:00"),
)
oudjaar2 = Act(
    "Humanitas Haarlem",
    "Oud en Nieuw samen vieren",
    "Oudejaarsfeest voor mensen die de jaarwisseling anders alleen zouden doorbrengen.",
    ("welfare",),
    ("alleenstaanden", "eenzame ouderen"),
    ("zuid-west",),
    ("nl",),
    once("2026-12-31 21:00", "2027-01-01 00:30"),
)
nieuwjaar_ochtend = vary(
    oudjaar2,
    title="Nieuwjaarsbrunch",
    text="Nieuwjaarsbrunch voor mensen die anders alleen zijn.",
    when=once("2027-01-01 11:00", "2027-01-01 14:00"),
)
holi = Act(
    "Hindostaanse Vereniging Haarlem",
    "Holi Phagwa festival",
    "Het kleurenfeest Phagwa met muziek, gekleurd poeder en Surinaams-Hindostaans eten.",
    ("culture",),
    ("iedereen",),
    ("zuid-west",),
    ("nl", "hi", "srn"),
    once("2026-03-07 13:00", "2026-03-07 18:00"),
)
newroz = Act(
    "Koerdische Vereniging Haarlem",
    "Newroz viering",
    "Koerdisch nieuwjaar vieren met vuur, dans en muziek.",
    ("culture",),
    ("iedereen",),
    ("zuid-west",),
    ("ku", "nl"),
    once("2026-03-21 14:00", "2026-03-21 20:00"),
)
nowruz = Act(
    "Afghaanse Gemeenschap Haarlem",
    "Nowruz: Perzisch nieuwjaar",
    "Het Perzische nieuwjaar vieren met een haft-sin tafel, muziek en gedichten.",
    ("culture",),
    ("iedereen",),
    ("zuid-west",),
    ("fa", "prs"),
    once("2026-03-21 15:00", "2026-03-21 19:00"),
)
koningsdag = Act(
    "Buurtwerk Haarlem",
    "Koningsdag kindervrijmarkt",
    "Kinderen verkopen hun speelgoed op de vrijmarkt in Noord.",
    ("youth", "participation"),
    ("kinderen",),
    ("noord",),
    ("nl",),
    once("2026-04-27 09:00", "2026-04-27 13:00"),
)
koningsdag2 = Act(
    "Stichting Leerkracht Noord",
    "Vrijmarkt en spelletjes op Koningsdag",
    "Kleedjesmarkt voor kinderen, oudhollandse spelletjes en oranje tompouces.",
    ("youth", "culture"),
    ("kinderen", "gezinnen"),
    ("noord",),
    ("nl",),
    once("2026-04-27 10:00", "2026-04-27 14:00"),
)

# -- women, elderly, health --------------------------------------------------------------------

naailes = Act(
    "Marokkaanse Vrouwenvereniging Haarlem",
    "Naailes voor beginners",
    "In tien lessen leer je werken met de naaimachine en maak je je eerste kledingstuk.",
    ("women", "participation"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl", "ar", "ber"),
    wk("do", "13:00", "15:00", "2026-03-05", "2026-05-07"),
)
naaicursus = Act(
    "Stichting Al Amal",
    "Naaicursus",
    "Cursus kleding maken en verstellen voor vrouwen uit Schalkwijk.",
    ("women",),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("do", "13:30", "15:30", "2026-03-12", "2026-06-18"),
)
breien = Act(
    "Vrouwencentrum Schalkwijk",
    "Brei- en haakclub",
    "Samen breien en haken, patronen uitwisselen en gezellig kletsen.",
    ("women", "participation"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl",),
    wk("do", "13:00", "15:00", "2026-01-08", "2026-06-25"),
)
fietsles = Act(
    "Stichting Al Amal",
    "Fietsles voor vrouwen",
    "Vrouwen leren fietsen met begeleiding van ervaren vrijwilligsters.",
    ("women", "sport", "integration"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("zo", "10:00", "12:00", "2026-04-05", "2026-06-28"),
)
leren_fietsen = Act(
    "Fietsersbond Haarlem",
    "Leren fietsen voor volwassenen",
    "Nooit leren fietsen? In acht lessen leer je het alsnog, op een rustig terrein in Schalkwijk.",
    ("sport", "integration"),
    ("volwassenen", "vrouwen"),
    ("schalkwijk",),
    ("nl",),
    wk("zo", "10:30", "12:00", "2026-04-12", "2026-06-07"),
)
vrouwensport = Act(
    "Sportsupport Haarlem",
    "Sporten voor vrouwen",
    "Fitness en bewegen in een besloten zaal, alleen voor vrouwen.",
    ("sport", "women", "health"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl",),
    wk("zo", "10:00", "11:30", "2026-01-11", "2026-06-28"),
)
ouderen_soos = Act(
    "Surinaamse Vereniging Wi Na Wan",
    "Ouderensoos",
    "Elke woensdagmiddag komen ouderen samen voor een praatje, een spelletje en een warme kop"
    " bouillon.",
    ("elderly", "welfare"),
    ("ouderen",),
    ("zuid-west",),
    ("nl", "srn"),
    wk("wo", "13:30", "16:30", "2026-01-07", "2026-12-16"),
)
ouderenmiddag = Act(
    "Buurtwerk Haarlem",
    "Ontmoetingsmiddag 65-plussers",
    "Koffie, bingo en gezelligheid voor 65-plussers in Zuid-West.",
    ("elderly",),
    ("65-plussers", "senioren"),
    ("zuid-west",),
    ("nl",),
    wk("wo", "14:00", "16:00", "2026-01-07", "2026-12-16"),
)
ouderen_gym = Act(
    "Sportsupport Haarlem",
    "Stoelgym voor ouderen",
    "Bewegen op de stoel om fit en soepel te blijven.",
    ("elderly", "sport", "health"),
    ("ouderen",),
    ("zuid-west",),
    ("nl",),
    wk("wo", "14:00", "15:00", "2026-01-07", "2026-12-16"),
)
ouderen_chinees = Act(
    "Chinese Vereniging Haarlem",
    "Ontmoeting Chinese ouderen",
    "Wekelijkse middag met mahjong, thee en gesprekken in het Kantonees.",
    ("elderly", "culture"),
    ("Chinese ouderen",),
    ("zuid-west",),
    ("yue", "zh"),
    wk("wo", "13:30", "16:30", "2026-01-07", "2026-12-16"),
)
eenzaamheid = Act(
    "Humanitas Haarlem",
    "Huisbezoek bij eenzame ouderen",
    "Vrijwilligers bezoeken wekelijks ouderen thuis voor een praatje en een wandeling.",
    ("elderly", "welfare"),
    ("eenzame ouderen",),
    ("zuid-west",),
    ("nl",),
    wk("wo", "14:00", "16:00", "2026-01-07", "2026-12-16"),
)
diabetes = Act(
    "GGD Kennemerland",
    "Gezond eten met diabetes",
    "Kookworkshop en voorlichting over gezond eten bij diabetes type 2.",
    ("health",),
    ("volwassenen",),
    ("oost",),
    ("nl",),
    once("2026-09-15 18:00", "2026-09-15 21:00"),
)
suikerziekte = Act(
    "Stichting Mama Afrika Haarlem",
    "Voorlichting suikerziekte en voeding",
    "Wat is diabetes en hoe kook je gezond met Afrikaanse gerechten? Met een diëtist.",
    ("health",),
    ("volwassenen",),
    ("oost",),
    ("nl", "en", "ak"),
    once("2026-09-15 19:00", "2026-09-15 21:30"),
)
mentale = Act(
    "Syrisch Huis Haarlem",
    "Praatgroep stress en trauma",
    "In een veilige groep praten over stress, heimwee en trauma, met een psycholoog.",
    ("health", "care"),
    ("statushouders", "volwassenen"),
    ("oost",),
    ("ar",),
    wk("di", "19:00", "21:00", "2026-09-01", "2026-12-15"),
)
mentale2 = Act(
    "Eritrese Gemeenschap Haarlem",
    "Psychosociale steungroep",
    "Lotgenotengroep voor Eritreeërs over stress, verlies en trauma.",
    ("health", "care"),
    ("statushouders",),
    ("oost",),
    ("ti",),
    wk("di", "19:00", "21:00", "2026-09-01", "2026-12-15"),
)
mentale3 = Act(
    "GGZ Haarlem",
    "Omgaan met stress: groepstraining",
    "Training in het Arabisch over stress, slapen en piekeren voor nieuwkomers.",
    ("health",),
    ("nieuwkomers", "volwassenen"),
    ("oost",),
    ("ar", "nl"),
    wk("di", "19:30", "21:00", "2026-10-06", "2026-11-24"),
)

# -- money, work, digital ----------------------------------------------------------------------

schuldhulp = Act(
    "SchuldHulpMaatje Haarlem",
    "Schuldhulp-spreekuur",
    "Heeft u schulden of betalingsproblemen? Kom langs op ons spreekuur; een maatje helpt u"
    " overzicht te krijgen.",
    ("debt", "poverty"),
    ("volwassenen",),
    ("schalkwijk",),
    ("nl",),
    wk("do", "13:00", "15:00", "2026-01-08", "2026-12-17"),
)
geldzorgen = Act(
    "Turks Cultureel Centrum Haarlem",
    "Hulp bij geldzorgen",
    "Vrijwilligers helpen met rekeningen, toeslagen en een betalingsregeling, ook in het Turks.",
    ("debt", "poverty"),
    ("gezinnen", "volwassenen"),
    ("schalkwijk",),
    ("tr", "nl"),
    wk("do", "14:00", "16:00", "2026-02-05", "2026-06-25"),
)
administratie = Act(
    "Humanitas Haarlem",
    "Thuisadministratie op orde",
    "Een vrijwilliger komt bij u thuis om samen uw papieren en post te ordenen.",
    ("debt", "welfare"),
    ("volwassenen",),
    ("schalkwijk",),
    ("nl",),
    wk("do", "13:00", "15:00", "2026-01-08", "2026-12-17"),
)
kledingbank = Act(
    "Kledingbank Haarlem",
    "Kledingbank open",
    "Gratis kleding voor gezinnen met een laag inkomen.",
    ("poverty",),
    ("gezinnen",),
    ("schalkwijk",),
    ("nl",),
    wk("do", "13:00", "16:00", "2026-01-08", "2026-12-17"),
)
sollicitatie = Act(
    "Werkplaats Haarlem",
    "Werk zoeken? Sollicitatiespreekuur",
    "Hulp bij je cv, motivatiebrief en het zoeken naar vacatures.",
    ("work",),
    ("werkzoekenden",),
    ("oost",),
    ("nl",),
    wk("ma", "13:00", "15:00", "2026-01-05", "2026-06-29"),
)
cv_workshop = Act(
    "Stichting Mama Afrika Haarlem",
    "Workshop cv schrijven",
    "Leer een sterk cv en motivatiebrief schrijven voor de Nederlandse arbeidsmarkt.",
    ("work", "integration"),
    ("werkzoekenden", "nieuwkomers"),
    ("oost",),
    ("nl", "en"),
    once("2026-03-16 13:30", "2026-03-16 15:30"),
)
ondernemen = Act(
    "Vrouwen van Oost",
    "Eigen bedrijf starten",
    "Vrouwen met een idee voor een eigen bedrijf krijgen uitleg over KvK, belasting en"
    " ondernemingsplan.",
    ("work", "women"),
    ("vrouwen",),
    ("oost",),
    ("nl", "tr"),
    once("2026-03-16 13:00", "2026-03-16 16:00"),
)
digi = Act(
    "Bibliotheek Haarlem",
    "Klik & Tik: computerles",
    "Basiscursus computer en internet voor beginners.",
    ("digital-skills",),
    ("volwassenen", "ouderen"),
    ("noord",),
    ("nl",),
    wk("wo", "10:00", "12:00", "2026-01-07", "2026-03-25"),
)
digid = Act(
    "Humanitas Haarlem",
    "DigiD-spreekuur",
    "Hulp bij het aanvragen en gebruiken van uw DigiD en de apps van de overheid.",
    ("digital-skills", "welfare"),
    ("volwassenen", "ouderen"),
    ("noord",),
    ("nl",),
    wk("wo", "10:30", "12:00", "2026-01-07", "2026-12-16"),
)
smartphone = Act(
    "Stichting Ouderen Anatolia",
    "Smartphonecursus voor ouderen",
    "Ouderen leren WhatsApp, videobellen en foto's maken op hun telefoon.",
    ("digital-skills", "elderly"),
    ("ouderen",),
    ("noord",),
    ("tr", "nl"),
    wk("wo", "10:00", "11:30", "2026-02-04", "2026-04-22"),
)

# -- meals, neighbourhood, sustainability ------------------------------------------------------

buurtmaaltijd = Act(
    "Buurtwerk Haarlem",
    "Buurtmaaltijd Molenwijk",
    "Eens per week koken buurtbewoners samen een maaltijd en eten ze samen aan tafel.",
    ("participation", "poverty"),
    ("buurtbewoners",),
    ("schalkwijk",),
    ("nl",),
    wk("wo", "17:30", "19:30", "2026-01-07", "2026-12-16"),
    "Buurthuis Molenwijk",
)
wereldkeuken = Act(
    "Stichting Mama Afrika Haarlem",
    "Wereldkeuken: samen koken en eten",
    "Elke woensdag kookt een andere bewoner een gerecht uit haar land; daarna eten we samen.",
    ("culture", "participation"),
    ("buurtbewoners", "iedereen"),
    ("schalkwijk",),
    ("nl", "en"),
    wk("wo", "17:00", "20:00", "2026-02-04", "2026-06-24"),
)
maaltijd_zaterdag = vary(wereldkeuken, when=wk("za", "17:00", "20:00", "2026-02-07", "2026-06-27"))
kookles = Act(
    "GGD Kennemerland",
    "Gezond koken voor gezinnen",
    "Kookworkshop voor ouders: gezond en goedkoop koken.",
    ("health", "parenting"),
    ("ouders",),
    ("schalkwijk",),
    ("nl",),
    wk("wo", "17:30", "19:30", "2026-03-04", "2026-04-08"),
)
moestuin = Act(
    "Duurzaam Haarlem",
    "Buurtmoestuin",
    "Samen groenten kweken in de moestuin achter het buurthuis.",
    ("sustainability", "participation"),
    ("buurtbewoners",),
    ("oost",),
    ("nl",),
    wk("za", "10:00", "12:00", "2026-03-07", "2026-10-31"),
)
tuinieren = Act(
    "Syrisch Huis Haarlem",
    "Samen tuinieren",
    "Wij werken in een gemeenschappelijke moestuin in Oost en oogsten samen.",
    ("sustainability",),
    ("buurtbewoners", "nieuwkomers"),
    ("oost",),
    ("ar", "nl"),
    wk("za", "10:30", "12:30", "2026-04-04", "2026-09-26"),
)
zwerfafval = Act(
    "Buurtwerk Haarlem",
    "Zwerfafval prikken",
    "Met grijpers en vuilniszakken maken we de wijk schoon.",
    ("sustainability", "participation"),
    ("buurtbewoners",),
    ("oost",),
    ("nl",),
    once("2026-03-21 10:00", "2026-03-21 12:00"),
)
opschoon = Act(
    "Vrouwen van Oost",
    "Opschoondag Parkwijk",
    "Samen de straten en het park schoonmaken, afgesloten met koffie en koek.",
    ("sustainability",),
    ("buurtbewoners",),
    ("oost",),
    ("nl", "tr"),
    once("2026-03-21 10:30", "2026-03-21 13:00"),
)
repair = Act(
    "Repair Café Haarlem",
    "Repair Café Schalkwijk",
    "Elke eerste zaterdag van de maand repareren vrijwilligers je kapotte spullen.",
    ("sustainability",),
    ("buurtbewoners",),
    ("schalkwijk",),
    ("nl",),
    once("2026-04-04 10:00", "2026-04-04 13:00"),
)
fietsreparatie = Act(
    "Stichting Al Amal",
    "Fietsenwerkplaats",
    "Jongeren leren fietsen repareren en knappen fietsen op voor nieuwkomers.",
    ("sustainability", "youth", "work"),
    ("jongeren",),
    ("schalkwijk",),
    ("nl", "ar"),
    once("2026-04-04 10:00", "2026-04-04 14:00"),
)

# -- faith, culture, parenting -----------------------------------------------------------------

opvoeding = Act(
    "Marokkaanse Vrouwenvereniging Haarlem",
    "Moedergroep opvoeding",
    "Moeders praten over opvoeding, pubers, schermtijd en school.",
    ("parenting", "women"),
    ("moeders",),
    ("oost",),
    ("nl", "ary", "ber"),
    wk("ma", "09:30", "11:30", "2026-01-12", "2026-06-22"),
)
opvoeding2 = Act(
    "Centrum Jeugd en Gezin Haarlem",
    "Opvoedspreekuur voor ouders",
    "Vragen over opvoeden? Een pedagoog denkt met u mee. Koffie staat klaar.",
    ("parenting",),
    ("ouders",),
    ("oost",),
    ("nl",),
    wk("ma", "09:00", "11:00", "2026-01-05", "2026-12-14"),
)
opvoeding_turks = Act(
    "Turkse Vrouwenvereniging Çiçek",
    "Opvoedingsgesprekken in het Turks",
    "Turkse moeders wisselen ervaringen uit over opvoeden.",
    ("parenting", "women"),
    ("Turkse moeders",),
    ("oost",),
    ("tr",),
    wk("ma", "09:30", "11:30", "2026-01-12", "2026-06-22"),
)
peuter = Act(
    "Bibliotheek Haarlem",
    "Peuterochtend: zingen en voorlezen",
    "Liedjes, voorlezen en spelen met je peuter.",
    ("youth", "parenting", "language"),
    ("peuters", "ouders"),
    ("oost",),
    ("nl",),
    wk("ma", "10:00", "11:00", "2026-01-05", "2026-06-29"),
)
moskee_open = Act(
    "Moskee Mescid-i Aksa",
    "Open moskeedag",
    "Rondleiding door de moskee, uitleg over de islam en thee met baklava.",
    ("faith", "participation"),
    ("iedereen",),
    ("schalkwijk",),
    ("tr", "nl"),
    once("2026-05-16 11:00", "2026-05-16 16:00"),
)
kerk_open = Act(
    "Protestantse Gemeente Haarlem",
    "Open kerk",
    "De kerk is open voor bezoekers, met rondleidingen en orgelmuziek.",
    ("faith", "culture"),
    ("iedereen",),
    ("centrum",),
    ("nl",),
    once("2026-05-16 11:00", "2026-05-16 16:00"),
)
dialoog = Act(
    "Stichting Sranan Haarlem",
    "Interreligieuze dialoog",
    "Gesprek tussen moslims, christenen en hindoes over feesten en vasten.",
    ("faith", "participation"),
    ("iedereen",),
    ("schalkwijk",),
    ("nl",),
    once("2026-05-16 14:00", "2026-05-16 16:00"),
)
muziek = Act(
    "Koerdische Vereniging Haarlem",
    "Saz-les",
    "Leer spelen op de saz, het snaarinstrument uit Koerdistan en Turkije.",
    ("culture",),
    ("jongeren", "volwassenen"),
    ("zuid-west",),
    ("ku", "tr", "nl"),
    wk("za", "14:00", "16:00", "2026-01-10", "2026-06-27"),
)
dans = Act(
    "Stichting Mama Afrika Haarlem",
    "Afrikaanse dansles",
    "Dansen op West-Afrikaanse ritmes, voor iedereen.",
    ("culture", "sport"),
    ("volwassenen",),
    ("zuid-west",),
    ("nl", "en"),
    wk("za", "14:00", "15:30", "2026-01-10", "2026-06-27"),
)
koor = Act(
    "Surinaamse Vereniging Wi Na Wan",
    "Koorrepetitie",
    "Ons koor zingt Surinaamse en Nederlandse liederen. Nieuwe zangers welkom.",
    ("culture",),
    ("volwassenen",),
    ("zuid-west",),
    ("nl", "srn"),
    wk("za", "14:00", "16:00", "2026-01-10", "2026-06-27"),
)
zangkoor = Act(
    "Buurtwerk Haarlem",
    "Buurtkoor Zuid-West",
    "Zingen met buurtbewoners: van smartlap tot wereldmuziek. Iedereen mag meezingen.",
    ("culture", "participation"),
    ("buurtbewoners", "volwassenen"),
    ("zuid-west",),
    ("nl",),
    wk("za", "14:30", "16:00", "2026-02-07", "2026-06-27"),
)
voetbal = Act(
    "Sportsupport Haarlem",
    "Voetbal voor jongeren in Noord",
    "Vrij voetballen met begeleiding op het pleintje in Delftwijk.",
    ("sport", "youth"),
    ("jongeren",),
    ("noord",),
    ("nl",),
    wk("wo", "14:00", "16:00", "2026-03-04", "2026-10-28"),
)
voetbaltoernooi = Act(
    "Marokkaanse Vrouwenvereniging Haarlem",
    "Ramadan voetbaltoernooi",
    "Nachtelijk zaalvoetbaltoernooi voor jongeren na de iftar.",
    ("sport", "youth", "faith"),
    ("jongeren",),
    ("noord",),
    ("nl",),
    once("2026-03-11 21:30", "2026-03-12 01:00"),
)
vechtsport = Act(
    "Vechtsportschool Noord",
    "Kickboksen voor jongeren",
    "Training kickboksen met aandacht voor discipline en respect.",
    ("sport", "youth"),
    ("jongeren",),
    ("noord",),
    ("nl",),
    wk("wo", "14:00", "15:30", "2026-03-04", "2026-10-28"),
)

# -- pairs -------------------------------------------------------------------------------------

PAIRS: list[Pair] = [
    # language
    Pair(taalcafe, taal_cafe, True, "Dutch practice café, Schalkwijk, Tuesday evening"),
    Pair(taalcafe, taallessen, True, "Dutch for newcomers, Schalkwijk, Tuesday 19:00 (from April)"),
    Pair(
        taal_cafe,
        taallessen,
        True,
        "Dutch conversation and lessons for non-native speakers, same evening and district",
    ),
    Pair(taalcafe, taalles_ochtend, False, "the lessons are in the morning"),
    Pair(taalcafe, taal_noord, False, "the same café at the same time in Noord"),
    Pair(taalcafe, engels, False, "English conversation is another aim and other people"),
    Pair(
        taalcafe,
        lezen_schrijven,
        False,
        "literacy for native Dutch speakers is not Dutch as a second language",
    ),
    Pair(taalcafe, taalmaatje, False, "language buddies meet on Monday morning, city-wide"),
    Pair(
        spreekvaardigheid,
        taal_oost_do,
        True,
        "Dutch speaking practice for women/mothers, Oost, Thursday morning",
    ),
    Pair(
        spreekvaardigheid,
        vary(taal_oost_do, when=wk("vr", "09:00", "11:00", "2026-02-06", "2026-06-26")),
        False,
        "the mothers' class moved to Friday",
    ),
    Pair(
        spreekvaardigheid,
        vary(taal_oost_do, districts=("schalkwijk",)),
        False,
        "the mothers' class in Schalkwijk",
    ),
    Pair(
        taal_cafe,
        vary(
            taal_cafe,
            org="Vrouwen van Oost",
            title="Taalcafe",
            text="Nederlands oefenen voor anderstaligen.",
        ),
        True,
        "near-duplicate language café",
    ),
    Pair(
        taallessen,
        vary(taal_cafe, title="Taalles", text="Wekelijkse taalles Nederlands in de bibliotheek."),
        True,
        "taalles and Taallessen at the same time and place",
    ),
    Pair(taal_noord, engels, False, "other district, other language"),
    Pair(lezen_schrijven, engels, False, "literacy and English: different aims"),
    # homework and youth
    Pair(
        huiswerk,
        huiswerk_hulp,
        True,
        "homework help for secondary pupils, Schalkwijk, Wednesday afternoon",
    ),
    Pair(
        huiswerk,
        huiswerk_basis,
        False,
        "primary school children are other pupils than secondary school youth",
    ),
    Pair(
        huiswerk_hulp,
        vary(
            huiswerk_basis,
            groups=("jongeren", "brugklassers"),
            title="Huiswerkhulp",
            text="Huiswerk maken met hulp van studenten.",
        ),
        True,
        "homework help for first-years at the same time",
    ),
    Pair(huiswerk, examen, False, "exam training on Saturday"),
    Pair(huiswerk, vary(huiswerk_hulp, districts=("noord",)), False, "homework help in Noord"),
    Pair(huiswerk, jongerenwerk, False, "youth evening is not homework help, and on Friday"),
    Pair(
        jongerenwerk,
        jongerencafe,
        True,
        "a meeting place for young people, Schalkwijk, Friday evening",
    ),
    Pair(
        jongerenwerk,
        meidenclub,
        False,
        "girls aged 10-15 with a creative programme, not the youth evening",
    ),
    Pair(
        jongerencafe,
        vary(jongerenwerk, when=wk("za", "19:00", "22:00", "2026-01-10", "2026-12-19")),
        False,
        "youth evening on Saturday",
    ),
    Pair(kinderknutsel, knutsel2, True, "crafts for children, Noord, Wednesday afternoon 13 May"),
    Pair(
        kinderknutsel,
        vary(knutsel2, when=wk("wo", "10:00", "12:00", "2026-01-07", "2026-06-24")),
        False,
        "the crafts morning ends before the afternoon",
    ),
    Pair(knutsel2, voetbal, False, "crafts and football"),
    Pair(voetbal, vechtsport, False, "football and kickboxing: different sports"),
    Pair(
        voetbal,
        vary(
            voetbal,
            org="Stichting Leerkracht Noord",
            title="Pleinvoetbal Delftwijk",
            text="Voetballen op het plein voor jongeren uit Delftwijk.",
        ),
        True,
        "near-duplicate street football",
    ),
    Pair(
        voetbal, voetbaltoernooi, False, "a night tournament during Ramadan vs Wednesday afternoons"
    ),
    # festivities
    Pair(
        suikerfeest,
        bayram,
        True,
        "end-of-Ramadan party for families, Schalkwijk, 21 March afternoon",
    ),
    Pair(suikerfeest, offerfeest, False, "the Sacrifice Feast is two months later"),
    Pair(suikerfeest, vary(bayram, districts=("oost",)), False, "a Bayram party in Oost"),
    Pair(iftar, iftar2, True, "open iftar, Schalkwijk, 12 March"),
    Pair(iftar, iftar_serie, True, "the mosque's daily iftar coincides with the open iftar"),
    Pair(
        iftar2,
        vary(iftar, when=once("2026-03-13 18:00", "2026-03-13 21:00")),
        False,
        "iftar on the next evening",
    ),
    Pair(iftar_serie, suikerfeest, False, "the Ramadan series ends before the party"),
    Pair(iftar, voetbaltoernooi, False, "football tournament in Noord after the iftar"),
    Pair(
        ketikoti_nacht,
        ketikoti_dialoog,
        True,
        "Keti Koti eve in Centrum: dialogue and the countdown to midnight coincide",
    ),
    Pair(
        ketikoti_nacht,
        ketikoti_middag,
        False,
        "the commemoration on 1 July at 11:00 is after the night ended",
    ),
    Pair(ketikoti_dialoog, ketikoti_middag, False, "evening of 30 June vs morning of 1 July"),
    Pair(oudjaar, oudjaar2, True, "New Year's Eve for people alone, Zuid-West, across midnight"),
    Pair(
        oudjaar2,
        vary(nieuwjaar_ochtend, org="Leger des Heils Haarlem"),
        False,
        "New Year's brunch the next morning",
    ),
    Pair(holi, newroz, False, "other festival, other community, other day"),
    Pair(newroz, nowruz, False, "Kurdish and Persian/Afghan new year: other communities"),
    Pair(newroz, suikerfeest, False, "Newroz in Zuid-West, Suikerfeest in Schalkwijk"),
    Pair(koningsdag, koningsdag2, True, "children's free market on King's Day in Noord"),
    Pair(
        koningsdag, vary(koningsdag2, districts=("centrum",)), False, "King's Day market in Centrum"
    ),
    # women, elderly, health
    Pair(naailes, naaicursus, True, "sewing course for women, Schalkwijk, Thursday afternoon"),
    Pair(naailes, breien, False, "knitting club is another aim"),
    Pair(
        naaicursus,
        vary(naailes, when=wk("vr", "13:00", "15:00", "2026-03-06", "2026-05-08")),
        False,
        "sewing on Friday",
    ),
    Pair(naaicursus, vary(naailes, districts=("zuid-west",)), False, "sewing in Zuid-West"),
    Pair(fietsles, leren_fietsen, True, "learning to cycle, Schalkwijk, Sunday morning"),
    Pair(fietsles, vrouwensport, False, "fitness for women is not cycling lessons"),
    Pair(fietsles, vary(leren_fietsen, districts=("oost",)), False, "cycling lessons in Oost"),
    Pair(ouderen_soos, ouderenmiddag, True, "afternoon for the elderly, Zuid-West, Wednesday"),
    Pair(ouderen_soos, ouderen_gym, False, "chair gym is exercise, not a social afternoon"),
    Pair(ouderen_soos, ouderen_chinees, False, "Cantonese-speaking elderly: other community"),
    Pair(ouderenmiddag, eenzaamheid, False, "home visits vs a meeting afternoon"),
    Pair(
        ouderenmiddag,
        vary(ouderen_soos, when=wk("do", "13:30", "16:30", "2026-01-08", "2026-12-17")),
        False,
        "soos on Thursday",
    ),
    Pair(ouderenmiddag, vary(ouderen_soos, districts=("noord",)), False, "soos in Noord"),
    Pair(diabetes, suikerziekte, True, "diabetes and food information, Oost, 15 September evening"),
    Pair(
        diabetes,
        vary(suikerziekte, when=once("2026-09-22 19:00", "2026-09-22 21:30")),
        False,
        "a week later",
    ),
    Pair(mentale, mentale2, False, "Arabic and Tigrinya support groups: other communities"),
    Pair(mentale, mentale3, True, "stress group in Arabic for newcomers, Oost, Tuesday evening"),
    Pair(mentale2, mentale3, False, "Tigrinya group vs Arabic training"),
    Pair(diabetes, mentale, False, "different aims"),
    # money, work, digital
    Pair(schuldhulp, geldzorgen, True, "help with debts, Schalkwijk, Thursday afternoon"),
    Pair(
        schuldhulp, administratie, True, "home administration help against money trouble, same slot"
    ),
    Pair(schuldhulp, kledingbank, False, "a clothing bank is another aim"),
    Pair(geldzorgen, vary(schuldhulp, districts=("zuid-west",)), False, "debt help in Zuid-West"),
    Pair(
        geldzorgen,
        vary(schuldhulp, when=wk("di", "13:00", "15:00", "2026-01-06", "2026-12-15")),
        False,
        "debt help on Tuesday",
    ),
    Pair(sollicitatie, cv_workshop, True, "CV and applications, Oost, Monday 16 March afternoon"),
    Pair(cv_workshop, ondernemen, False, "starting a business is not applying for jobs"),
    Pair(
        sollicitatie,
        vary(cv_workshop, when=once("2026-03-17 13:30", "2026-03-17 15:30")),
        False,
        "CV workshop on Tuesday",
    ),
    Pair(digi, digid, True, "computer and DigiD help, Noord, Wednesday morning"),
    Pair(
        digi, smartphone, True, "smartphone lessons for elderly coincide with the computer course"
    ),
    Pair(
        digid,
        vary(smartphone, langs=("tr",)),
        False,
        "Turkish-only smartphone lessons: another language group",
    ),
    Pair(
        digi,
        vary(digid, when=wk("wo", "14:00", "16:00", "2026-01-07", "2026-12-16")),
        False,
        "DigiD help in the afternoon",
    ),
    # meals, neighbourhood
    Pair(
        buurtmaaltijd,
        wereldkeuken,
        True,
        "weekly shared neighbourhood dinner, Schalkwijk, Wednesday",
    ),
    Pair(buurtmaaltijd, maaltijd_zaterdag, False, "the world kitchen on Saturday"),
    Pair(buurtmaaltijd, kookles, False, "cooking class for parents is not a shared dinner"),
    Pair(wereldkeuken, vary(buurtmaaltijd, districts=("noord",)), False, "shared dinner in Noord"),
    Pair(moestuin, tuinieren, True, "community vegetable garden, Oost, Saturday morning"),
    Pair(
        moestuin,
        vary(tuinieren, when=wk("zo", "10:30", "12:30", "2026-04-05", "2026-09-27")),
        False,
        "gardening on Sunday",
    ),
    Pair(zwerfafval, opschoon, True, "clean-up, Oost, 21 March morning"),
    Pair(zwerfafval, moestuin, False, "clean-up vs gardening at the same time: different aims"),
    Pair(repair, fietsreparatie, False, "a bike workshop for youth is not the repair café"),
    Pair(
        repair,
        vary(
            repair,
            org="Buurtwerk Haarlem",
            title="Repaircafé",
            text="Repareren in plaats van weggooien: samen kapotte spullen maken.",
        ),
        True,
        "near-duplicate repair café",
    ),
    # faith, culture, parenting
    Pair(opvoeding, opvoeding2, True, "parenting talk, Oost, Monday morning"),
    Pair(
        opvoeding, opvoeding_turks, False, "Turkish-only mothers' group vs Moroccan mothers' group"
    ),
    Pair(opvoeding2, peuter, False, "toddler singing is not parenting advice"),
    Pair(
        opvoeding2,
        vary(opvoeding, when=wk("wo", "09:30", "11:30", "2026-01-14", "2026-06-24")),
        False,
        "mothers' group on Wednesday",
    ),
    Pair(moskee_open, kerk_open, False, "open days in other districts for other houses of worship"),
    Pair(
        moskee_open,
        dialoog,
        True,
        "open mosque day and interfaith dialogue, Schalkwijk, same afternoon",
    ),
    Pair(muziek, dans, False, "music lessons and dance class"),
    Pair(koor, zangkoor, True, "choir rehearsal, Zuid-West, Saturday afternoon"),
    Pair(koor, dans, False, "choir and dance"),
    Pair(
        zangkoor,
        vary(koor, when=wk("za", "10:00", "12:00", "2026-01-10", "2026-06-27")),
        False,
        "choir in the morning",
    ),
    # unrelated pairs at the same place and time
    Pair(taal_cafe, lezen_schrijven, False, "literacy for native speakers vs Dutch practice café"),
    Pair(huiswerk_hulp, buurtmaaltijd, False, "homework club and dinner"),
    Pair(schuldhulp, naailes, False, "debt help and sewing, Thursday afternoon Schalkwijk"),
    Pair(breien, schuldhulp, False, "knitting and debt help"),
    Pair(ouderen_gym, eenzaamheid, False, "chair gym and home visits"),
    Pair(digid, smartphone, True, "phone and DigiD help for the elderly, Noord, Wednesday morning"),
    Pair(opvoeding2, opvoeding_turks, False, "Turkish-only group vs Dutch parenting consultation"),
    Pair(peuter, opvoeding, False, "toddler morning and mothers' group"),
    Pair(meidenclub, jongerencafe, False, "girls' club vs youth café"),
    Pair(kookles, wereldkeuken, False, "cooking class for parents vs world kitchen dinner"),
    Pair(fietsreparatie, repair, False, "youth bike workshop vs repair café"),
    Pair(holi, ketikoti_middag, False, "different festivals and days"),
    Pair(offerfeest, dialoog, False, "different days"),
    Pair(suikerziekte, kookles, False, "other district and day"),
    Pair(vrouwensport, leren_fietsen, False, "sport for women vs cycling lessons"),
    Pair(taal_oost_do, opvoeding, False, "Thursday language class vs Monday mothers' group"),
    Pair(sollicitatie, opvoeding2, False, "job help vs parenting, same Monday, other hours"),
    Pair(mentale3, taallessen, False, "other district, other aim"),
    Pair(examen, muziek, False, "exam training and saz lessons"),
    Pair(ouderen_chinees, ouderen_gym, False, "Cantonese elderly and chair gym"),
    Pair(geldzorgen, kledingbank, False, "debt help vs clothing bank"),
    Pair(
        ondernemen,
        sollicitatie,
        False,
        "starting a business vs job help, the same Monday afternoon",
    ),
    Pair(iftar_serie, iftar2, True, "daily iftar and an open iftar on 12 March"),
    Pair(
        bayram,
        vary(suikerfeest, langs=("ar", "ber")),
        False,
        "Turkish and Arabic/Berber celebrations without a common language",
    ),
    Pair(
        taallessen,
        vary(taalcafe, langs=("ar", "nl"), groups=("Syrische nieuwkomers",)),
        True,
        "Dutch for newcomers at the same time",
    ),
    Pair(
        ouderen_soos,
        vary(ouderenmiddag, langs=("nl", "srn")),
        True,
        "a Surinamese-Dutch soos and a 65+ afternoon",
    ),
    Pair(koningsdag, voetbal, False, "King's Day market and football on other days"),
    Pair(huiswerk_hulp, knutsel2, False, "homework club and crafts afternoon in other districts"),
    Pair(jongerenwerk, vary(jongerencafe, districts=("oost",)), False, "youth café in Oost"),
    Pair(
        naailes,
        vary(
            naaicursus,
            groups=("meiden",),
            title="Naailes voor meiden",
            text="Meiden van 12 tot 16 leren naaien en ontwerpen.",
        ),
        False,
        "sewing for teenage girls, not adult women",
    ),
    Pair(
        fietsles,
        vary(
            leren_fietsen,
            groups=("kinderen",),
            title="Fietsles voor kinderen",
            text="Kinderen leren fietsen.",
        ),
        False,
        "cycling lessons for children",
    ),
    Pair(
        buurtmaaltijd,
        vary(wereldkeuken, when=wk("wo", "19:30", "21:30", "2026-02-04", "2026-06-24")),
        False,
        "world kitchen starts when the meal ends",
    ),
    Pair(
        buurtmaaltijd,
        vary(wereldkeuken, when=wk("wo", "19:00", "21:30", "2026-02-04", "2026-06-24")),
        True,
        "half an hour of overlap each Wednesday",
    ),
    Pair(
        digi,
        vary(digid, when=wk("wo", "11:30", "13:00", "2026-01-07", "2026-12-16")),
        True,
        "the DigiD hour starts half an hour before the course ends",
    ),
    Pair(
        taalcafe,
        vary(taal_cafe, when=wk("di", "19:30", "21:00", "2026-07-07", "2026-12-15")),
        False,
        "the library's café starts after the other's series ended",
    ),
    Pair(
        moestuin,
        vary(tuinieren, when=once("2026-06-13 10:00", "2026-06-13 12:00")),
        True,
        "a one-off garden morning on a Saturday of the weekly garden",
    ),
    Pair(
        moestuin,
        vary(tuinieren, when=once("2026-06-14 10:00", "2026-06-14 12:00")),
        False,
        "a one-off garden morning on a Sunday",
    ),
    Pair(
        ouderen_soos,
        vary(ouderenmiddag, when=once("2026-04-08 14:00", "2026-04-08 16:00")),
        True,
        "a one-off 65+ afternoon on a soos Wednesday",
    ),
    Pair(
        huiswerk,
        vary(huiswerk_hulp, when=once("2026-05-20 16:00", "2026-05-20 18:00")),
        True,
        "a one-off homework session on a Wednesday of the weekly help",
    ),
]
