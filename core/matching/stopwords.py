"""Words that carry no topic in a Biete/Suche post.

Two lists, both in folded form (see normalize.fold): German function words, and words that
nearly every post of the exchange uses ("suchen", "Erfahrungen", "Gemeinde"), which would
otherwise make unrelated posts look similar.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _words(
    """
    ab aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
    anderes andern anders auch auf aus bei beide beiden beim bereits bin bis bisher bist bitte
    bzw da dabei dadurch dafur dagegen daher dahin damals damit danach dann daran darauf daraus
    darf darin daruber darum darunter das dass davon dazu dein deine deinem deinen deiner dem
    den denen denn dennoch der deren derer des deshalb dessen dich die dies diese diesem diesen
    dieser dieses dir doch dort du durch eben ebenfalls ein eine einem einen einer eines einige
    einigen einiger einmal er es etwa etwas euch euer eure fur gab gar gegen gewesen gibt ging
    gut habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer
    ihres im immer in indem ins ist ja je jede jedem jeden jeder jedes jedoch jene jenem jenen
    jener jenes jetzt kann kannst kaum kein keine keinem keinen keiner konnen konnte konnten
    kunftig lassen man manche manchem manchen mancher manches mehr mein meine meinem meinen
    meiner meist mich mir mit muss mussen musste nach nachdem neben nein nicht nichts noch nun
    nur ob oben oder ohne per rund schon sehr sei seid sein seine seinem seinen seiner seit
    selbst sich sie sind so sodass solche solchem solchen solcher soll sollen sollte sowie
    sowohl statt teil trotz uber um und uns unser unsere unserem unseren unserer unter usw viel
    viele vielen vom von vor wahrend war waren warum was weil weiter weitere welche welchem
    welchen welcher welches wem wen wenig wenn wer werde werden wie wieder will wir wird wirst
    wo wobei wohl wollen wurde wurden zu zum zur zwar zwischen
    """
)

EXCHANGE_WORDS = _words(
    """
    biete bieten bietet angebot angebote anfrage suche suchen sucht gesucht erfahrung
    erfahrungen austausch austauschen interesse interessiert gerne gern hallo hilfe helfen
    unterstutzung kommune kommunen gemeinde gemeinden stadt ortsgemeinde thema themen frage
    fragen tipp tipps idee ideen beispiel beispiele bereich bereichen moglichkeit moglichkeiten
    neu neue neuen neuer neues konnte jemand wer wissen teilen gemacht machen haben jahr jahren
    jahre derzeit aktuell gibt geben gut gute guten sehr kontakt kontakte melden wichtig ort
    orten vorhanden bitte uberlegen moglich weg wege konzept konzepte konzepts konzepten
    """
)

STOP_WORDS = FUNCTION_WORDS | EXCHANGE_WORDS
