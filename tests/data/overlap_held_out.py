"""Held-out labelled pairs: written before the scorer existed and never used to tune it.

Labelled as a coordinator of the platform would: an overlap is the same aim, for the same
people, in the same place, at the same time (times that coincide, if only partly). Another day,
another district (for neighbourhood activities), another community or another age group is no
overlap; city-wide festivities compete for the same public wherever in the city they are.
"""

from __future__ import annotations

from .overlap_support import Act, Pair, once, vary, wk

# -- activities --------------------------------------------------------------------------------

h_taal_oost = Act(
    "Vrouwen van Oost",
    "Taalcafé voor vrouwen",
    "Elke woensdagochtend oefenen we samen Nederlands bij een kop koffie. Voor vrouwen die de"
    " taal willen leren spreken in het dagelijks leven: bij de dokter, op school, in de winkel.",
    ("language", "women", "integration"),
    ("vrouwen", "nieuwkomers"),
    ("oost",),
    ("nl", "ar", "tr"),
    wk("wo", "09:30", "11:30", "2026-01-07", "2026-07-01"),
    "Buurthuis De Ringvaart",
)
h_conversatie_oost = Act(
    "Buurtwerk Haarlem",
    "Nederlandse conversatiegroep",
    "Wekelijkse conversatieles Nederlands voor anderstaligen in Haarlem-Oost. Onder leiding van"
    " vrijwillige taalcoaches oefent u spreken en luisteren.",
    ("language", "integration"),
    ("anderstaligen", "volwassenen"),
    ("oost",),
    ("nl",),
    wk("wo", "10:00", "12:00", "2026-02-04", "2026-06-24"),
    "Wijkcentrum Oost",
)
h_huiswerk_schalkwijk = Act(
    "Stichting Al Amal",
    "Huiswerkbegeleiding groep 6 t/m 8",
    "Kinderen uit Schalkwijk krijgen hulp bij hun huiswerk, rekenen en begrijpend lezen."
    " Vrijwilligers begeleiden kleine groepjes.",
    ("education", "youth"),
    ("kinderen",),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("ma,do", "15:30", "17:30", "2026-01-05", "2026-07-09"),
    "Moskee Mescid-i Aksa, Schalkwijk",
)
h_huiswerkklas = Act(
    "Turks Cultureel Centrum Haarlem",
    "Huiswerkklas",
    "Na schooltijd helpen studenten basisschoolkinderen met huiswerk en het leren voor toetsen.",
    ("education", "youth"),
    ("basisschoolkinderen",),
    ("schalkwijk",),
    ("nl", "tr"),
    wk("do", "16:00", "18:00", "2026-01-08", "2026-06-25"),
    "TCCH, Schalkwijk",
)
h_bijles_noord = Act(
    "Stichting Leerkracht Noord",
    "Bijles voor kinderen in Noord",
    "Gratis bijles en huiswerkhulp voor kinderen uit Delftwijk en omgeving.",
    ("education", "youth"),
    ("kinderen",),
    ("noord",),
    ("nl",),
    wk("do", "15:30", "17:30", "2026-01-08", "2026-06-25"),
    "Buurthuis Delftwijk",
)
h_iftar_tcch = Act(
    "Turks Cultureel Centrum Haarlem",
    "Iftar voor de buurt",
    "Tijdens de Ramadan openen we het vasten samen met buren van alle achtergronden. Iedereen"
    " is welkom aan tafel.",
    ("faith", "culture", "participation"),
    ("buurtbewoners", "iedereen"),
    ("schalkwijk",),
    ("nl", "tr"),
    once("2026-03-07 18:00", "2026-03-07 21:30"),
)
h_iftar_alamal = Act(
    "Stichting Al Amal",
    "Gezamenlijke iftarmaaltijd",
    "Open iftar in Schalkwijk: we breken samen het vasten, met soep, dadels en een warme"
    " maaltijd. Buren, vrienden en collega's zijn welkom.",
    ("faith", "culture"),
    ("buurtbewoners",),
    ("schalkwijk",),
    ("nl", "ar", "ber"),
    once("2026-03-07 18:15", "2026-03-07 22:00"),
)
h_iftar_noord = vary(
    h_iftar_alamal,
    org="Moskee Noord",
    title="Iftar in Noord",
    districts=("noord",),
    text="Samen het vasten breken in de moskee in Noord, voor de wijk.",
)
h_suikerfeest_a = Act(
    "Marokkaanse Vrouwenvereniging Haarlem",
    "Suikerfeest voor families",
    "Feest aan het einde van de Ramadan met muziek, henna, springkussen en lekkernijen voor"
    " het hele gezin.",
    ("culture", "faith"),
    ("gezinnen",),
    ("schalkwijk",),
    ("nl", "ar", "ber"),
    once("2026-03-21 13:00", "2026-03-21 18:00"),
)
h_eid_b = Act(
    "Syrisch Huis Haarlem",
    "Eid al-Fitr viering",
    "Wij vieren Eid al-Fitr met een feestmiddag voor kinderen en ouders: spelletjes, eten en"
    " cadeautjes.",
    ("culture", "faith", "youth"),
    ("families", "kinderen"),
    ("schalkwijk",),
    ("ar", "nl"),
    once("2026-03-21 14:00", "2026-03-21 19:00"),
)
h_eid_zondag = vary(h_eid_b, when=once("2026-03-22 14:00", "2026-03-22 19:00"))
h_ketikoti_centrum = Act(
    "Surinaamse Vereniging Wi Na Wan",
    "Keti Koti Festival",
    "Herdenking en viering van de afschaffing van de slavernij op 1 juli: muziek, dans,"
    " bakana tori en een gezamenlijke maaltijd.",
    ("culture", "participation"),
    ("iedereen",),
    ("centrum",),
    ("nl", "srn"),
    once("2026-07-01 12:00", "2026-07-01 20:00"),
    "Grote Markt",
)
h_ketikoti_zw = Act(
    "Stichting Sranan Haarlem",
    "Viering Dag der Vrijheden",
    "Op 1 juli staan we stil bij het slavernijverleden en vieren we de vrijheid met een"
    " herdenkingsmoment, muziek en Surinaamse hapjes.",
    ("culture",),
    ("iedereen",),
    ("zuid-west",),
    ("nl", "srn", "pap"),
    once("2026-07-01 15:00", "2026-07-01 21:00"),
)
h_ketikoti_lezing = Act(
    "Bibliotheek Haarlem",
    "Lezing slavernijverleden Haarlem",
    "Historicus vertelt over de rol van Haarlem in het koloniale verleden.",
    ("culture", "education"),
    ("volwassenen",),
    ("centrum",),
    ("nl",),
    once("2026-06-24 19:30", "2026-06-24 21:00"),
)
h_naai_schalkwijk = Act(
    "Stichting Al Amal",
    "Naailes",
    "Leer naaien op de naaimachine: zomen, ritsen, een eigen jurk maken. Materiaal aanwezig.",
    ("women", "participation"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("di", "13:00", "15:30", "2026-01-06", "2026-06-30"),
)
h_naaiatelier = Act(
    "Vrouwencentrum Schalkwijk",
    "Naaiatelier voor vrouwen",
    "Samen kleding maken en herstellen in ons atelier. Beginners leren de basis van het"
    " naaien; gevorderden werken aan eigen patronen.",
    ("women", "participation", "sustainability"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl",),
    wk("di", "13:30", "16:00", "2026-02-03", "2026-06-30"),
)
h_naai_oost = vary(h_naaiatelier, org="Vrouwen van Oost", districts=("oost",))
h_fiets_vrouwen = Act(
    "Vluchtelingenwerk Haarlem",
    "Fietsles voor vrouwen",
    "Leren fietsen in een veilige omgeving, van evenwicht tot verkeersregels. Fietsen en"
    " helmen zijn er.",
    ("women", "integration", "sport"),
    ("vrouwen", "statushouders"),
    ("zuid-west",),
    ("nl", "ar", "ti", "prs"),
    wk("za", "10:00", "12:00", "2026-04-04", "2026-06-27"),
)
h_fietscursus = Act(
    "Eritrese Gemeenschap Haarlem",
    "Fietscursus voor moeders",
    "Moeders leren fietsen zodat ze zelf hun kinderen naar school kunnen brengen.",
    ("women", "integration"),
    ("moeders",),
    ("zuid-west",),
    ("ti", "nl"),
    wk("za", "10:30", "12:00", "2026-04-11", "2026-06-20"),
)
h_fiets_kinderen = Act(
    "Sportsupport Haarlem",
    "Fietsvaardigheid voor kinderen",
    "Kinderen oefenen fietsen en verkeersregels op het schoolplein.",
    ("sport", "youth", "safety"),
    ("kinderen",),
    ("zuid-west",),
    ("nl",),
    wk("za", "10:00", "11:30", "2026-04-04", "2026-06-27"),
)
h_soos = Act(
    "Stichting Ouderen Anatolia",
    "Ouderensoos",
    "Wekelijkse middag voor ouderen: thee, spelletjes, praten en af en toe een lezing over"
    " gezondheid.",
    ("elderly", "welfare"),
    ("ouderen", "Turkse ouderen"),
    ("schalkwijk",),
    ("tr", "nl"),
    wk("vr", "14:00", "17:00", "2026-01-09", "2026-12-18"),
)
h_seniorenmiddag = Act(
    "Buurtwerk Haarlem",
    "Seniorenmiddag Molenwijk",
    "Gezellige ontmoetingsmiddag voor senioren uit de Molenwijk met koffie, bingo en een praatje.",
    ("elderly", "welfare"),
    ("senioren", "ouderen"),
    ("schalkwijk",),
    ("nl",),
    wk("vr", "14:00", "16:30", "2026-01-09", "2026-06-26"),
)
h_soos_marokkaans = Act(
    "Marokkaanse Ouderenvereniging",
    "Ontmoeting Marokkaanse ouderen",
    "Wekelijkse ontmoeting met thee, gesprekken en voorlichting voor Marokkaanse ouderen.",
    ("elderly", "welfare"),
    ("Marokkaanse ouderen",),
    ("schalkwijk",),
    ("ary", "ber"),
    wk("vr", "14:00", "17:00", "2026-01-09", "2026-06-26"),
)
h_schuld = Act(
    "SchuldHulpMaatje Haarlem",
    "Spreekuur geldzorgen",
    "Inloopspreekuur voor mensen met geldzorgen of schulden. Vrijwilligers helpen met brieven,"
    " budget en het aanvragen van regelingen.",
    ("debt", "poverty"),
    ("volwassenen",),
    ("oost",),
    ("nl",),
    wk("di", "10:00", "12:00", "2026-01-06", "2026-12-15"),
    "Wijkcentrum Oost",
)
h_schuldhulp = Act(
    "Stichting Al Amal",
    "Schuldhulp-spreekuur",
    "Hulp bij schulden, betalingsachterstanden en toeslagen. Wij helpen in het Arabisch en"
    " het Nederlands.",
    ("debt", "poverty"),
    ("volwassenen", "gezinnen"),
    ("oost",),
    ("nl", "ar"),
    wk("di", "10:30", "12:30", "2026-02-03", "2026-06-30"),
)
h_formulieren = Act(
    "Humanitas Haarlem",
    "Formulierenhulp",
    "Hulp bij het invullen van formulieren, DigiD en brieven van instanties.",
    ("welfare", "digital-skills"),
    ("volwassenen",),
    ("oost",),
    ("nl",),
    wk("di", "10:00", "12:00", "2026-01-06", "2026-12-15"),
)
h_maaltijd_noord = Act(
    "Buurtkeuken Noord",
    "Buurtmaaltijd",
    "Iedere donderdag koken vrijwilligers een voedzame maaltijd voor buurtbewoners. Voor een"
    " kleine bijdrage eet je samen aan lange tafels.",
    ("poverty", "participation"),
    ("buurtbewoners",),
    ("noord",),
    ("nl",),
    wk("do", "17:30", "19:30", "2026-01-08", "2026-12-17"),
)
h_samen_eten_noord = Act(
    "Stichting Mama Afrika Haarlem",
    "Samen eten in Delftwijk",
    "Wekelijks gezamenlijk diner met gerechten uit Ghana en Nigeria. Buren uit Delftwijk"
    " zijn van harte welkom.",
    ("culture", "participation"),
    ("buurtbewoners",),
    ("noord",),
    ("nl", "en", "ak"),
    wk("do", "18:00", "20:30", "2026-03-05", "2026-06-25"),
)
h_maaltijd_zw = vary(h_maaltijd_noord, org="Buurtkeuken Zuid-West", districts=("zuid-west",))
h_voedselbank = Act(
    "Voedselbank Haarlem",
    "Uitdeelpunt voedselpakketten",
    "Wekelijkse uitgifte van voedselpakketten aan ingeschreven huishoudens.",
    ("poverty",),
    ("huishoudens",),
    ("noord",),
    ("nl",),
    wk("do", "17:00", "19:00", "2026-01-08", "2026-12-17"),
)
h_koffie_oost = Act(
    "Vrouwen van Oost",
    "Koffieochtend",
    "Inloop met koffie en thee voor vrouwen uit de wijk, om elkaar te ontmoeten en ervaringen"
    " te delen.",
    ("women", "participation"),
    ("vrouwen",),
    ("oost",),
    ("nl", "tr", "ar"),
    wk("vr", "09:30", "11:30", "2026-01-09", "2026-06-26"),
)
h_inloop_oost = Act(
    "Buurtwerk Haarlem",
    "Inloopochtend vrouwen Parkwijk",
    "Ontmoeten, kletsen en samen iets ondernemen: de inloopochtend voor vrouwen in Oost.",
    ("women", "participation"),
    ("vrouwen",),
    ("oost",),
    ("nl",),
    wk("vr", "10:00", "12:00", "2026-02-06", "2026-06-26"),
)
h_koffie_turks = Act(
    "Turkse Vrouwenvereniging Çiçek",
    "Kahvaltı: Turks ontbijt voor vrouwen",
    "Samen ontbijten en praten in het Turks, elke vrijdag.",
    ("women", "culture"),
    ("Turkse vrouwen",),
    ("oost",),
    ("tr",),
    wk("vr", "09:30", "11:30", "2026-01-09", "2026-06-26"),
)
h_koffie_eritrees = Act(
    "Eritrese Gemeenschap Haarlem",
    "Koffieceremonie voor Eritrese vrouwen",
    "Traditionele koffieceremonie en gesprek in het Tigrinya, voor vrouwen uit Eritrea.",
    ("women", "culture"),
    ("Eritrese vrouwen",),
    ("oost",),
    ("ti",),
    wk("vr", "10:00", "12:00", "2026-01-09", "2026-06-26"),
)
h_voetbal = Act(
    "Sportsupport Haarlem",
    "Straatvoetbal Schalkwijk",
    "Elke woensdagmiddag voetballen op het Cruyff Court voor jongens en meiden.",
    ("sport", "youth"),
    ("jongeren", "kinderen"),
    ("schalkwijk",),
    ("nl",),
    wk("wo", "14:00", "16:00", "2026-03-04", "2026-10-28"),
)
h_voetbal2 = Act(
    "Stichting Al Amal",
    "Voetbaltraining voor jongens",
    "Voetballen, teamgeest en respect: training voor jongens van 10 tot 14 op het Cruyff Court.",
    ("sport", "youth"),
    ("jongens", "jongeren"),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("wo", "14:30", "16:00", "2026-04-01", "2026-06-24"),
)
h_dans_meiden = Act(
    "Stichting Mama Afrika Haarlem",
    "Afro-dance voor meiden",
    "Dansles voor meiden van 12 tot 18 jaar.",
    ("sport", "youth", "culture"),
    ("meiden",),
    ("schalkwijk",),
    ("nl", "en"),
    wk("wo", "14:00", "15:30", "2026-03-04", "2026-06-24"),
)
h_digi = Act(
    "Bibliotheek Haarlem",
    "Digicafé",
    "Vragen over uw telefoon, tablet of computer? Vrijwilligers helpen u op weg met"
    " e-mail, DigiD en apps.",
    ("digital-skills",),
    ("ouderen", "volwassenen"),
    ("centrum",),
    ("nl",),
    wk("ma", "14:00", "16:00", "2026-01-05", "2026-12-14"),
    "Bibliotheek Centrum",
)
h_digi_senioren = Act(
    "Stichting Ouderen Anatolia",
    "Computerles voor senioren",
    "Leren omgaan met smartphone en computer: WhatsApp, internetbankieren, DigiD.",
    ("digital-skills", "elderly"),
    ("senioren",),
    ("centrum",),
    ("tr", "nl"),
    wk("ma", "14:30", "16:00", "2026-02-02", "2026-05-25"),
)
h_digi_jongeren = Act(
    "CodeClub Haarlem",
    "Programmeerclub voor kinderen",
    "Kinderen leren programmeren met Scratch en robots.",
    ("digital-skills", "youth", "education"),
    ("kinderen",),
    ("centrum",),
    ("nl",),
    wk("ma", "14:00", "16:00", "2026-01-05", "2026-06-29"),
)
h_opvoed = Act(
    "Syrisch Huis Haarlem",
    "Opvoedcursus voor ouders",
    "Gesprekken over opvoeden in twee culturen, grenzen stellen en omgaan met school.",
    ("parenting", "integration"),
    ("ouders",),
    ("schalkwijk",),
    ("ar", "nl"),
    wk("di", "19:00", "21:00", "2026-02-03", "2026-04-21"),
)
h_opvoed2 = Act(
    "Centrum Jeugd en Gezin Haarlem",
    "Oudergroep: opvoeden in twee culturen",
    "Ouders wisselen ervaringen uit over opvoeding, puberteit en school, onder begeleiding van"
    " een pedagoog.",
    ("parenting",),
    ("ouders", "moeders"),
    ("schalkwijk",),
    ("nl", "ar"),
    wk("di", "19:30", "21:30", "2026-03-03", "2026-06-23"),
)
h_opvoed_ochtend = vary(h_opvoed2, when=wk("di", "09:30", "11:30", "2026-03-03", "2026-06-23"))
h_gezondheid = Act(
    "GGD Kennemerland",
    "Voorlichting diabetes",
    "Voorlichtingsbijeenkomst over diabetes, voeding en bewegen.",
    ("health",),
    ("volwassenen",),
    ("schalkwijk",),
    ("nl", "tr", "ar"),
    once("2026-04-14 19:00", "2026-04-14 21:00"),
)
h_gezondheid2 = Act(
    "Turks Cultureel Centrum Haarlem",
    "Informatieavond suikerziekte",
    "Een diëtist en een huisarts vertellen over suikerziekte: hoe voorkom je het, wat eet je"
    " gezond?",
    ("health",),
    ("volwassenen", "ouderen"),
    ("schalkwijk",),
    ("tr", "nl"),
    once("2026-04-14 19:30", "2026-04-14 21:30"),
)
h_wandel = Act(
    "Gezond Schalkwijk",
    "Wandelgroep",
    "Samen wandelen door het Reinaldapark, in eigen tempo.",
    ("health", "sport"),
    ("ouderen", "volwassenen"),
    ("schalkwijk",),
    ("nl",),
    wk("di", "19:00", "20:30", "2026-02-03", "2026-04-21"),
)
h_repair = Act(
    "Repair Café Haarlem",
    "Repair Café",
    "Kapotte spullen samen repareren: kleding, fietsen, elektrische apparaten.",
    ("sustainability", "participation"),
    ("buurtbewoners",),
    ("noord",),
    ("nl",),
    wk("za", "10:00", "13:00", "2026-01-10", "2026-12-12", every=4),
)
h_repair2 = Act(
    "Buurtwerk Haarlem",
    "Reparatiemiddag Delftwijk",
    "Breng je kapotte lamp, broek of fiets mee: vrijwilligers repareren samen met jou.",
    ("sustainability",),
    ("buurtbewoners",),
    ("noord",),
    ("nl",),
    once("2026-01-10 11:00", "2026-01-10 15:00"),
)
h_repair3 = vary(h_repair2, when=once("2026-01-17 11:00", "2026-01-17 15:00"))
h_werk = Act(
    "Werkplaats Haarlem",
    "Sollicitatietraining",
    "Cv schrijven, oefenen met sollicitatiegesprekken en zoeken naar vacatures.",
    ("work",),
    ("werkzoekenden",),
    ("centrum",),
    ("nl",),
    wk("wo", "13:00", "15:00", "2026-02-04", "2026-04-29"),
)
h_werk2 = Act(
    "Eritrese Gemeenschap Haarlem",
    "Werkcafé voor statushouders",
    "Hulp bij het vinden van werk: cv, solliciteren en netwerken met werkgevers.",
    ("work", "integration"),
    ("statushouders", "werkzoekenden"),
    ("centrum",),
    ("ti", "nl", "en"),
    wk("wo", "13:30", "15:30", "2026-02-04", "2026-06-24"),
)
h_quran = Act(
    "Moskee Mescid-i Aksa",
    "Koranles voor kinderen",
    "Lessen in het lezen van de Koran.",
    ("faith", "education", "youth"),
    ("kinderen",),
    ("schalkwijk",),
    ("tr", "ar"),
    wk("za", "10:00", "12:00", "2026-01-10", "2026-06-27"),
)
h_arabisch = Act(
    "Syrisch Huis Haarlem",
    "Arabische les voor kinderen",
    "Kinderen leren lezen en schrijven in het Arabisch, hun moedertaal.",
    ("language", "education", "youth"),
    ("kinderen",),
    ("schalkwijk",),
    ("ar",),
    wk("za", "10:00", "12:00", "2026-01-10", "2026-06-27"),
)
h_turkse_les = Act(
    "Turks Cultureel Centrum Haarlem",
    "Turkse les voor kinderen",
    "Moedertaalonderwijs Turks voor kinderen van 6 tot 12.",
    ("language", "education", "youth"),
    ("kinderen",),
    ("schalkwijk",),
    ("tr",),
    wk("za", "10:00", "12:00", "2026-01-10", "2026-06-27"),
)
h_sinterklaas = Act(
    "Buurtwerk Haarlem",
    "Sinterklaasfeest in de buurt",
    "Sinterklaas en zijn pieten bezoeken het buurthuis; alle kinderen krijgen een cadeautje.",
    ("culture", "youth"),
    ("kinderen",),
    ("noord",),
    ("nl",),
    once("2026-11-28 14:00", "2026-11-28 16:00"),
)
h_sint2 = Act(
    "Stichting Leerkracht Noord",
    "Intocht Sint in Delftwijk",
    "Sinterklaasmiddag voor kinderen uit Delftwijk met pepernoten, zingen en cadeaus.",
    ("culture", "youth"),
    ("kinderen", "gezinnen"),
    ("noord",),
    ("nl",),
    once("2026-11-28 13:00", "2026-11-28 15:30"),
)
h_kerst = Act(
    "Leger des Heils Haarlem",
    "Kerstdiner voor alleenstaanden",
    "Een warme kerstmaaltijd voor wie de feestdagen alleen doorbrengt.",
    ("poverty", "welfare"),
    ("alleenstaanden", "ouderen"),
    ("centrum",),
    ("nl",),
    once("2026-12-25 17:00", "2026-12-25 21:00"),
)
h_kerst2 = Act(
    "Humanitas Haarlem",
    "Kerstmaaltijd: niemand alleen",
    "Op eerste kerstdag eten we samen, zodat niemand de kerst eenzaam hoeft door te brengen.",
    ("welfare",),
    ("eenzame ouderen", "alleenstaanden"),
    ("centrum",),
    ("nl",),
    once("2026-12-25 16:00", "2026-12-25 20:00"),
)
h_yoga = Act(
    "Vrouwencentrum Schalkwijk",
    "Yoga voor vrouwen",
    "Ontspannen en sterker worden met yoga, voor vrouwen van alle leeftijden.",
    ("sport", "health", "women"),
    ("vrouwen",),
    ("schalkwijk",),
    ("nl",),
    wk("di", "13:00", "14:30", "2026-01-06", "2026-06-30"),
)
h_nieuwjaar = Act(
    "Stichting Vietnamees Haarlem",
    "Tết: Vietnamees Nieuwjaar",
    "Viering van het maannieuwjaar met drakendans en eten.",
    ("culture",),
    ("iedereen",),
    ("centrum",),
    ("vi", "nl"),
    once("2026-02-21 14:00", "2026-02-21 19:00"),
)
h_chinees_nj = Act(
    "Chinese Vereniging Haarlem",
    "Chinees Nieuwjaarsfeest",
    "Het jaar van het paard vieren we met leeuwendans, kalligrafie en dumplings.",
    ("culture",),
    ("iedereen",),
    ("centrum",),
    ("zh", "nl"),
    once("2026-02-21 13:00", "2026-02-21 18:00"),
)
h_zwem = Act(
    "Sportsupport Haarlem",
    "Zwemles voor volwassen vrouwen",
    "Leren zwemmen in een besloten uur met vrouwelijke badmeesters.",
    ("sport", "women", "safety"),
    ("vrouwen",),
    ("zuid-west",),
    ("nl",),
    wk("zo", "08:00", "09:00", "2026-01-11", "2026-06-28"),
)
h_zwem2 = Act(
    "Stichting Al Amal",
    "Zwemmen voor moslima's",
    "Besloten zwemuur voor vrouwen; ook beginners die willen leren zwemmen zijn welkom.",
    ("sport", "women"),
    ("vrouwen", "moslimvrouwen"),
    ("zuid-west",),
    ("nl", "ar"),
    wk("zo", "08:00", "09:30", "2026-02-01", "2026-06-28"),
)
h_mantelzorg = Act(
    "Mantelzorg Haarlem",
    "Lotgenotengroep mantelzorgers",
    "Mantelzorgers delen ervaringen en krijgen tips over het combineren van zorg en werk.",
    ("care", "welfare"),
    ("mantelzorgers",),
    ("zuid-west",),
    ("nl",),
    wk("do", "19:30", "21:30", "2026-01-15", "2026-06-18", every=2),
)
h_mantelzorg2 = Act(
    "Turks Cultureel Centrum Haarlem",
    "Steun voor wie zorgt voor een familielid",
    "Praatgroep voor mensen die zorgen voor een ziek familielid: mantelzorg in de Turkse"
    " gemeenschap.",
    ("care",),
    ("mantelzorgers",),
    ("zuid-west",),
    ("tr", "nl"),
    wk("do", "19:00", "21:00", "2026-01-15", "2026-06-18", every=2),
)
h_boek = Act(
    "Bibliotheek Haarlem",
    "Voorleesuurtje",
    "Voorlezen voor peuters en kleuters in de bibliotheek.",
    ("education", "youth", "language"),
    ("peuters", "kleuters"),
    ("noord",),
    ("nl",),
    wk("wo", "10:00", "11:00", "2026-01-07", "2026-06-24"),
)
h_boek2 = Act(
    "Stichting Mama Afrika Haarlem",
    "Voorlezen in twee talen",
    "Ouders en vrijwilligers lezen prentenboeken voor aan jonge kinderen, in het Nederlands en"
    " het Engels.",
    ("language", "youth", "parenting"),
    ("jonge kinderen", "ouders"),
    ("noord",),
    ("nl", "en"),
    wk("wo", "10:00", "11:30", "2026-03-04", "2026-06-24"),
)
h_klimaat = Act(
    "Duurzaam Haarlem",
    "Energiecafé",
    "Tips om energie te besparen in huis en hulp bij de energietoeslag.",
    ("sustainability", "poverty", "housing"),
    ("huurders", "buurtbewoners"),
    ("schalkwijk",),
    ("nl",),
    once("2026-10-06 19:00", "2026-10-06 21:00"),
)
h_energie = Act(
    "Stichting Al Amal",
    "Energie besparen: voorlichting",
    "Hoe houd je je energierekening laag? Voorlichting met energiecoaches, in het Arabisch en"
    " Nederlands.",
    ("sustainability", "poverty"),
    ("gezinnen", "huurders"),
    ("schalkwijk",),
    ("ar", "nl"),
    once("2026-10-06 19:30", "2026-10-06 21:00"),
)

# -- pairs -------------------------------------------------------------------------------------

PAIRS: list[Pair] = [
    Pair(
        h_taal_oost,
        h_conversatie_oost,
        True,
        "Dutch conversation practice, Oost, Wednesday mornings",
    ),
    Pair(
        h_taal_oost,
        vary(h_conversatie_oost, districts=("noord",), venue="Buurthuis Noord"),
        False,
        "same aim, same time, another district",
    ),
    Pair(
        h_taal_oost,
        vary(h_conversatie_oost, when=wk("do", "10:00", "12:00", "2026-02-05", "2026-06-25")),
        False,
        "same aim and district, Thursday instead of Wednesday",
    ),
    Pair(
        h_huiswerk_schalkwijk,
        h_huiswerkklas,
        True,
        "homework help for primary pupils, Schalkwijk, Thursday afternoon",
    ),
    Pair(
        h_huiswerk_schalkwijk, h_bijles_noord, False, "homework help at the same time but in Noord"
    ),
    Pair(
        h_huiswerkklas,
        vary(
            h_huiswerkklas,
            org="Stichting Leerkracht Noord",
            when=wk("wo", "14:00", "16:00", "2026-01-07", "2026-06-24"),
        ),
        False,
        "near-duplicate on Wednesday instead of Thursday",
    ),
    Pair(h_iftar_tcch, h_iftar_alamal, True, "open iftar, Schalkwijk, the same evening"),
    Pair(
        h_iftar_tcch,
        h_iftar_noord,
        False,
        "iftar the same evening, but a neighbourhood meal in Noord",
    ),
    Pair(
        h_iftar_alamal,
        vary(h_iftar_tcch, when=once("2026-03-14 18:00", "2026-03-14 21:30")),
        False,
        "iftar in Schalkwijk a week later",
    ),
    Pair(
        h_suikerfeest_a,
        h_eid_b,
        True,
        "Suikerfeest / Eid al-Fitr party for families, Schalkwijk, same afternoon",
    ),
    Pair(h_suikerfeest_a, h_eid_zondag, False, "Eid party the next day"),
    Pair(
        h_ketikoti_centrum,
        h_ketikoti_zw,
        True,
        "Keti Koti on 1 July: a city-wide commemoration in two places at the same time",
    ),
    Pair(h_ketikoti_centrum, h_ketikoti_lezing, False, "lecture on slavery a week earlier"),
    Pair(
        h_naai_schalkwijk,
        h_naaiatelier,
        True,
        "sewing class for women, Schalkwijk, Tuesday afternoon",
    ),
    Pair(h_naai_schalkwijk, h_naai_oost, False, "sewing for women at the same time in Oost"),
    Pair(
        h_naaiatelier,
        vary(h_yoga, org="Sportsupport Haarlem"),
        False,
        "yoga and sewing for women: different aims",
    ),
    Pair(
        h_fiets_vrouwen,
        h_fietscursus,
        True,
        "cycling lessons for (migrant) women, Zuid-West, Saturday morning",
    ),
    Pair(h_fiets_vrouwen, h_fiets_kinderen, False, "cycling for children, not for women"),
    Pair(h_soos, h_seniorenmiddag, True, "weekly afternoon for the elderly, Schalkwijk, Friday"),
    Pair(h_soos, h_soos_marokkaans, False, "Turkish and Moroccan elderly: other language groups"),
    Pair(
        h_seniorenmiddag,
        h_soos_marokkaans,
        False,
        "Dutch-speaking seniors vs Moroccan-Arabic/Berber group: other people",
    ),
    Pair(h_schuld, h_schuldhulp, True, "debt help drop-in, Oost, Tuesday morning"),
    Pair(h_schuld, h_formulieren, False, "help with forms is not debt counselling"),
    Pair(
        h_schuldhulp,
        vary(h_schuld, districts=("centrum",)),
        False,
        "debt help at the same time in Centrum",
    ),
    Pair(
        h_maaltijd_noord,
        h_samen_eten_noord,
        True,
        "weekly neighbourhood dinner, Noord, Thursday evening",
    ),
    Pair(h_maaltijd_noord, h_maaltijd_zw, False, "the same meal in Zuid-West"),
    Pair(h_maaltijd_noord, h_voedselbank, False, "food parcels vs a shared meal: different aims"),
    Pair(h_koffie_oost, h_inloop_oost, True, "coffee morning for women, Oost, Friday"),
    Pair(
        h_koffie_oost,
        h_koffie_eritrees,
        False,
        "Eritrean women's coffee ceremony in Tigrinya: another community",
    ),
    Pair(h_koffie_turks, h_koffie_eritrees, False, "Turkish-only and Tigrinya-only women's groups"),
    Pair(
        h_voetbal, h_voetbal2, True, "football for youth at the Cruyff Court, Wednesday afternoon"
    ),
    Pair(h_voetbal, h_dans_meiden, False, "dance and football: different aims"),
    Pair(
        h_digi, h_digi_senioren, True, "help with phones and computers, Centrum, Monday afternoon"
    ),
    Pair(h_digi, h_digi_jongeren, False, "coding club for children vs digital help for adults"),
    Pair(
        h_opvoed,
        h_opvoed2,
        True,
        "parenting in two cultures, Schalkwijk, Tuesday evening (from March)",
    ),
    Pair(h_opvoed, h_opvoed_ochtend, False, "the parents' group meets in the morning instead"),
    Pair(h_opvoed, h_wandel, False, "walking group vs parenting course"),
    Pair(h_gezondheid, h_gezondheid2, True, "diabetes information evening, Schalkwijk, 14 April"),
    Pair(
        h_gezondheid,
        vary(h_gezondheid2, when=once("2026-05-12 19:30", "2026-05-12 21:30")),
        False,
        "diabetes evening a month later",
    ),
    Pair(h_repair, h_repair2, True, "repair café on the same Saturday, Noord"),
    Pair(
        h_repair, h_repair3, False, "repair afternoon on a Saturday the monthly repair café skips"
    ),
    Pair(h_werk, h_werk2, True, "job application help, Centrum, Wednesday afternoon"),
    Pair(
        h_werk,
        vary(h_werk2, districts=("schalkwijk",)),
        False,
        "job help at the same time in Schalkwijk",
    ),
    Pair(
        h_quran, h_arabisch, False, "Quran reading vs Arabic mother-tongue lessons: different aims"
    ),
    Pair(
        h_arabisch, h_turkse_les, False, "mother-tongue lessons in other languages: other children"
    ),
    Pair(
        h_arabisch,
        vary(
            h_arabisch,
            org="Marokkaanse Vrouwenvereniging Haarlem",
            title="Arabische taalles kinderen",
            text="Arabisch lezen en schrijven voor kinderen uit Schalkwijk.",
        ),
        True,
        "near-duplicate Arabic lessons for children",
    ),
    Pair(h_sinterklaas, h_sint2, True, "Sinterklaas party for children in Noord, same afternoon"),
    Pair(
        h_sinterklaas, vary(h_sint2, districts=("oost",)), False, "Sinterklaas in another district"
    ),
    Pair(h_kerst, h_kerst2, True, "Christmas dinner for people alone, Centrum, 25 December"),
    Pair(
        h_kerst,
        vary(h_kerst2, when=once("2026-12-24 17:00", "2026-12-24 21:00")),
        False,
        "Christmas dinner on Christmas Eve instead",
    ),
    Pair(h_nieuwjaar, h_chinees_nj, False, "Vietnamese and Chinese new year: other communities"),
    Pair(h_zwem, h_zwem2, True, "women-only swimming, Zuid-West, Sunday 8:00"),
    Pair(h_zwem, h_yoga, False, "another day, another district, another sport"),
    Pair(
        h_mantelzorg,
        h_mantelzorg2,
        True,
        "support group for carers, Zuid-West, the same Thursday evenings",
    ),
    Pair(
        h_mantelzorg,
        vary(h_mantelzorg2, when=wk("do", "19:00", "21:00", "2026-01-22", "2026-06-25", every=2)),
        False,
        "carers' group on the other Thursdays",
    ),
    Pair(h_boek, h_boek2, True, "reading to young children, Noord, Wednesday morning"),
    Pair(
        h_boek,
        vary(h_boek2, langs=("en",)),
        False,
        "reading in English only vs in Dutch: other language groups",
    ),
    Pair(h_klimaat, h_energie, True, "saving energy information evening, Schalkwijk, 6 October"),
    Pair(h_klimaat, vary(h_energie, districts=("noord",)), False, "energy evening in Noord"),
    Pair(h_huiswerkklas, h_voetbal, False, "homework and football for children"),
    Pair(h_soos, h_gezondheid2, False, "a one-off health evening vs the Friday afternoon soos"),
    Pair(h_digi_senioren, h_seniorenmiddag, False, "seniors, but other district, day and aim"),
    Pair(h_iftar_alamal, h_quran, False, "unrelated faith activities at other times"),
    Pair(
        h_conversatie_oost, h_koffie_oost, False, "language café and coffee morning on other days"
    ),
    Pair(h_schuldhulp, h_klimaat, False, "debt help and energy café at other times and places"),
    Pair(h_fietscursus, h_zwem2, False, "cycling and swimming for women on other days"),
    Pair(h_ketikoti_zw, h_maaltijd_zw, False, "Keti Koti afternoon vs weekly meal on a Thursday"),
]
