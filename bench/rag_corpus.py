"""A deterministic synthetic corpus for bench/rag.py: business documents in English and French.

Why synthetic: the bench needs thousands of chunks, a known access-group layout (each group owns
a tenth of the corpus) and no download. Why templated sentences rather than random words: the
full-text arm of the hybrid search needs real words in real languages (stemmed by the English and
French configurations), and the encoder needs sentences whose meaning differs from department to
department, so that a question about expense reports lands near expense reports.

Everything derives from one `random.Random(seed)`: the same seed writes byte-identical files.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from pathlib import Path

# One access group per department: a user of one group sees exactly that department's documents.
DEPARTMENTS: tuple[str, ...] = (
    "finance", "legal", "hr", "sales", "engineering",
    "operations", "marketing", "procurement", "security", "support",
)
# Share of French documents: enough for the French text-search configuration to matter.
FRENCH_SHARE = 0.35

SLOTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "region": ("the Nordic region", "Benelux", "Iberia", "the DACH region", "North America",
                   "the United Kingdom", "Southern Europe", "Asia-Pacific"),
        "product": ("Atlas", "Borealis", "Cobalt", "Delta Cloud", "Ember", "Fjord Analytics"),
        "system": ("SAP", "Workday", "Salesforce", "Jira", "ServiceNow", "Coupa", "Okta"),
        "person": ("Maria Lindqvist", "Jonas Weber", "Aisha Khan", "Tom Becker", "Lucia Romero",
                   "Pieter de Vries", "Hannah Moore"),
        "month": ("January", "March", "April", "June", "September", "October", "December"),
        "quarter": ("Q1", "Q2", "Q3", "Q4"),
    },
    "fr": {
        "region": ("la région nordique", "le Benelux", "la péninsule ibérique", "la zone DACH",
                   "l'Amérique du Nord", "le Royaume-Uni", "l'Europe du Sud", "l'Asie-Pacifique"),
        "product": ("Atlas", "Borealis", "Cobalt", "Delta Cloud", "Ember", "Fjord Analytics"),
        "system": ("SAP", "Workday", "Salesforce", "Jira", "ServiceNow", "Coupa", "Okta"),
        "person": ("Claire Dubois", "Julien Moreau", "Amina Benali", "Thomas Girard",
                   "Sophie Laurent", "Nicolas Petit", "Camille Roux"),
        "month": ("janvier", "mars", "avril", "juin", "septembre", "octobre", "décembre"),
        "quarter": ("T1", "T2", "T3", "T4"),
    },
}

DOC_TYPES = {
    "en": ("Policy", "Procedure", "Guidelines", "Quarterly review", "Meeting minutes", "FAQ",
           "Handbook", "Standard"),
    "fr": ("Politique", "Procédure", "Lignes directrices", "Revue trimestrielle",
           "Compte rendu de réunion", "FAQ", "Guide", "Norme"),
}

GENERIC = {
    "en": (
        "This document applies to all entities of the group from {month} {year}.",
        "Questions about this document should be sent to {person}, who owns it.",
        "The previous version, dated {quarter} {year}, is withdrawn and must no longer be used.",
        "Exceptions require the written approval of the department head and are reviewed every "
        "{quarter}.",
        "Managers are responsible for making sure their teams read and apply these rules.",
        "A summary of the changes is presented at the monthly leadership meeting.",
        "Local law prevails where it is stricter than the rules described here.",
        "The figures quoted below are those of the last closed quarter, {quarter} {year}.",
    ),
    "fr": (
        "Ce document s'applique à toutes les entités du groupe à partir de {month} {year}.",
        "Les questions sur ce document sont à adresser à {person}, qui en est responsable.",
        "La version précédente, datée du {quarter} {year}, est retirée et ne doit plus être "
        "utilisée.",
        "Toute exception exige l'accord écrit du directeur du département et fait l'objet d'une "
        "revue à chaque trimestre.",
        "Les managers veillent à ce que leurs équipes lisent et appliquent ces règles.",
        "Un résumé des changements est présenté lors du comité de direction mensuel.",
        "La loi locale prévaut lorsqu'elle est plus stricte que les règles décrites ici.",
        "Les chiffres cités ci-dessous sont ceux du dernier trimestre clos, le {quarter} {year}.",
    ),
}


@dataclass(frozen=True)
class Topic:
    """What one department writes about, in one language."""

    subjects: tuple[str, ...]
    headings: tuple[str, ...]
    sentences: tuple[str, ...]
    questions: tuple[str, ...]


TOPICS: dict[str, dict[str, Topic]] = {
    "finance": {
        "en": Topic(
            ("expense reports", "travel expenses", "the annual budget", "supplier invoices",
             "the quarterly close"),
            ("Scope", "Approval thresholds", "Reimbursement", "Budget calendar",
             "Invoice processing", "Controls"),
            (
                "Expense reports must be submitted in {system} within {days} days of the trip, "
                "with every receipt attached.",
                "Any expense above EUR {amount} needs the approval of the budget owner before "
                "it is committed.",
                "Hotel costs are reimbursed up to EUR {small} per night in {region}.",
                "The budget for {year} was approved by the board in {month} with an operating "
                "margin target of {pct}%.",
                "Supplier invoices are paid at {days} days end of month once the purchase order "
                "and the goods receipt match.",
                "The quarterly close starts on the third working day and ends with the "
                "consolidated report to the CFO.",
                "Revenue in {region} grew by {pct}% in {quarter}, ahead of the forecast.",
                "Cash forecasts are updated every Monday and reviewed by treasury.",
                "Late expense claims older than {days} days are no longer reimbursed.",
            ),
            (
                "What is the approval threshold for an expense in {region}?",
                "How many days do I have to submit my expense report?",
                "When are supplier invoices paid?",
            ),
        ),
        "fr": Topic(
            ("les notes de frais", "les frais de déplacement", "le budget annuel",
             "les factures fournisseurs", "la clôture trimestrielle"),
            ("Périmètre", "Seuils d'approbation", "Remboursement", "Calendrier budgétaire",
             "Traitement des factures", "Contrôles"),
            (
                "Les notes de frais sont saisies dans {system} sous {days} jours après le "
                "déplacement, avec tous les justificatifs.",
                "Toute dépense supérieure à {amount} euros nécessite l'accord du responsable du "
                "budget avant engagement.",
                "Les frais d'hôtel sont remboursés jusqu'à {small} euros par nuit pour "
                "{region}.",
                "Le budget {year} a été validé par le conseil en {month} avec un objectif de "
                "marge opérationnelle de {pct} %.",
                "Les factures fournisseurs sont réglées à {days} jours fin de mois lorsque la "
                "commande et la réception concordent.",
                "La clôture trimestrielle débute le troisième jour ouvré et se termine par le "
                "rapport consolidé au directeur financier.",
                "Le chiffre d'affaires de {region} a progressé de {pct} % au {quarter}, au-dessus "
                "des prévisions.",
                "Les prévisions de trésorerie sont mises à jour chaque lundi.",
                "Les notes de frais de plus de {days} jours ne sont plus remboursées.",
            ),
            (
                "Quel est le seuil d'approbation d'une dépense pour {region} ?",
                "Combien de jours ai-je pour saisir ma note de frais ?",
                "Quand les factures fournisseurs sont-elles payées ?",
            ),
        ),
    },
    "legal": {
        "en": Topic(
            ("non-disclosure agreements", "customer contracts", "personal data protection",
             "intellectual property", "document retention"),
            ("Purpose", "Signature authority", "Data protection", "Liability",
             "Retention periods", "Disputes"),
            (
                "Every non-disclosure agreement must use the template approved by legal and be "
                "signed before any confidential information is shared.",
                "Only directors may sign contracts above EUR {amount}; below that amount the "
                "department head signs.",
                "Personal data of customers in {region} is processed under the GDPR and kept no "
                "longer than {years} years.",
                "Liability in customer contracts is capped at {pct}% of the annual fees, except "
                "for gross negligence.",
                "Inventions made by employees during their work belong to the company, as "
                "stated in the employment contract.",
                "Accounting records are retained for {years} years, then destroyed securely.",
                "Any dispute with a supplier is reported to {person} before a formal notice is "
                "sent.",
                "A data protection impact assessment is required before launching {product}.",
                "Contract renewals are tracked in {system} and reviewed {days} days before the "
                "notice period ends.",
            ),
            (
                "Who can sign a contract above EUR {amount}?",
                "How long do we keep customer personal data?",
                "What is the liability cap in our customer contracts?",
            ),
        ),
        "fr": Topic(
            ("les accords de confidentialité", "les contrats clients",
             "la protection des données personnelles", "la propriété intellectuelle",
             "la conservation des documents"),
            ("Objet", "Délégation de signature", "Protection des données", "Responsabilité",
             "Durées de conservation", "Litiges"),
            (
                "Tout accord de confidentialité utilise le modèle validé par le service "
                "juridique et doit être signé avant tout échange d'informations confidentielles.",
                "Seuls les directeurs peuvent signer un contrat de plus de {amount} euros ; en "
                "dessous, le directeur du département signe.",
                "Les données personnelles des clients de {region} sont traitées conformément au "
                "RGPD et conservées au maximum {years} ans.",
                "La responsabilité dans les contrats clients est plafonnée à {pct} % des "
                "redevances annuelles, sauf faute lourde.",
                "Les inventions réalisées par les salariés dans le cadre de leur travail "
                "appartiennent à l'entreprise.",
                "Les pièces comptables sont conservées {years} ans puis détruites de manière "
                "sécurisée.",
                "Tout litige avec un fournisseur est signalé à {person} avant l'envoi d'une mise "
                "en demeure.",
                "Une analyse d'impact sur la protection des données est requise avant le "
                "lancement de {product}.",
                "Les renouvellements de contrats sont suivis dans {system}.",
            ),
            (
                "Qui peut signer un contrat de plus de {amount} euros ?",
                "Combien de temps conservons-nous les données personnelles des clients ?",
                "Quel est le plafond de responsabilité dans nos contrats clients ?",
            ),
        ),
    },
    "hr": {
        "en": Topic(
            ("annual leave", "remote work", "onboarding", "performance reviews",
             "training budgets"),
            ("Eligibility", "Annual leave", "Remote work", "Onboarding", "Performance reviews",
             "Training"),
            (
                "Employees are entitled to {leave} days of paid annual leave per calendar year.",
                "Leave requests are entered in {system} at least {days} days in advance and "
                "approved by the manager.",
                "Employees may work remotely up to {remote} days per week after their trial "
                "period.",
                "Every new hire follows a {days}-day onboarding programme with a named buddy.",
                "Performance reviews take place in {month}; objectives are set for the whole "
                "year.",
                "Each employee has a training budget of EUR {small} per year.",
                "Parental leave is extended to {weeks} weeks for both parents.",
                "Salary reviews in {region} follow the reviews and take effect in {month}.",
                "Sick leave must be reported to the manager on the first day of absence.",
            ),
            (
                "How many days of annual leave do I get?",
                "How many days per week can I work from home?",
                "What is my yearly training budget?",
            ),
        ),
        "fr": Topic(
            ("les congés payés", "le télétravail", "l'intégration des nouveaux arrivants",
             "les entretiens annuels", "le budget de formation"),
            ("Bénéficiaires", "Congés payés", "Télétravail", "Intégration",
             "Entretiens annuels", "Formation"),
            (
                "Les salariés bénéficient de {leave} jours de congés payés par année civile.",
                "Les demandes de congés sont saisies dans {system} au moins {days} jours à "
                "l'avance et validées par le manager.",
                "Les salariés peuvent télétravailler jusqu'à {remote} jours par semaine après "
                "leur période d'essai.",
                "Chaque nouvel arrivant suit un parcours d'intégration de {days} jours avec un "
                "parrain désigné.",
                "Les entretiens annuels ont lieu en {month} ; les objectifs sont fixés pour "
                "l'année.",
                "Chaque salarié dispose d'un budget de formation de {small} euros par an.",
                "Le congé parental est porté à {weeks} semaines pour les deux parents.",
                "Les révisions de salaire pour {region} suivent les entretiens.",
                "Un arrêt maladie est signalé au manager dès le premier jour d'absence.",
            ),
            (
                "Combien de jours de congés payés ai-je par an ?",
                "Combien de jours de télétravail par semaine sont autorisés ?",
                "Quel est mon budget de formation annuel ?",
            ),
        ),
    },
    "sales": {
        "en": Topic(
            ("discount approval", "sales commissions", "the sales pipeline", "pricing",
             "contract renewals"),
            ("Pricing", "Discounts", "Commissions", "Pipeline review", "Renewals", "Quotas"),
            (
                "Discounts above {pct}% on {product} require the approval of the regional sales "
                "director.",
                "Commissions are paid quarterly at {rate}% of the booked revenue once the "
                "customer has paid.",
                "Every opportunity above EUR {amount} is updated in {system} before the weekly "
                "pipeline review.",
                "List prices for {product} increase by {small_pct}% on the first of {month}.",
                "Renewals are contacted {days} days before the end of the subscription.",
                "The sales quota for {region} in {year} is EUR {amount} thousand.",
                "Multi-year deals receive an additional discount of {small_pct}% per year "
                "committed.",
                "The pipeline coverage target is three times the quarterly quota.",
                "Free trials of {product} last {days} days and require a named sponsor.",
            ),
            (
                "Who approves a discount above {pct}% on {product}?",
                "How are sales commissions calculated?",
                "When do we contact customers about renewals?",
            ),
        ),
        "fr": Topic(
            ("l'approbation des remises", "les commissions commerciales",
             "le pipeline commercial", "la politique tarifaire", "les renouvellements"),
            ("Tarifs", "Remises", "Commissions", "Revue du pipeline", "Renouvellements",
             "Objectifs"),
            (
                "Les remises supérieures à {pct} % sur {product} nécessitent l'accord du "
                "directeur commercial régional.",
                "Les commissions sont versées chaque trimestre à {rate} % du chiffre d'affaires "
                "signé, une fois le client payé.",
                "Toute opportunité de plus de {amount} euros est mise à jour dans {system} avant "
                "la revue hebdomadaire du pipeline.",
                "Les prix catalogue de {product} augmentent de {small_pct} % au premier {month}.",
                "Les clients sont contactés {days} jours avant la fin de leur abonnement.",
                "L'objectif commercial de {region} pour {year} est de {amount} milliers d'euros.",
                "Les contrats pluriannuels bénéficient d'une remise supplémentaire de "
                "{small_pct} % par année d'engagement.",
                "La couverture du pipeline doit atteindre trois fois l'objectif trimestriel.",
                "Les essais gratuits de {product} durent {days} jours.",
            ),
            (
                "Qui valide une remise de plus de {pct} % sur {product} ?",
                "Comment sont calculées les commissions commerciales ?",
                "Quand contacte-t-on les clients pour un renouvellement ?",
            ),
        ),
    },
    "engineering": {
        "en": Topic(
            ("production deployments", "code review", "incident management", "on-call duty",
             "release management"),
            ("Deployments", "Code review", "Incidents", "On-call", "Releases", "Testing"),
            (
                "Production deployments of {product} happen on weekdays before 3 pm, never on "
                "Fridays.",
                "Every change needs one approving code review and a green build in the CI "
                "pipeline.",
                "A severity one incident is declared when {product} is unavailable for more "
                "than {minutes} minutes.",
                "The on-call engineer acknowledges a page within {minutes} minutes, day and "
                "night.",
                "Post-mortems are written within {days} days and shared without blame.",
                "Releases follow semantic versioning and are tracked in {system}.",
                "Unit test coverage of new code must stay above {pct}%.",
                "Database migrations are reviewed by the platform team before they run in "
                "production.",
                "Feature flags are removed {days} days after a feature is fully rolled out.",
            ),
            (
                "When are we allowed to deploy to production?",
                "How quickly must on-call acknowledge a page?",
                "When is an incident severity one?",
            ),
        ),
        "fr": Topic(
            ("les mises en production", "la revue de code", "la gestion des incidents",
             "les astreintes", "la gestion des versions"),
            ("Mises en production", "Revue de code", "Incidents", "Astreintes", "Versions",
             "Tests"),
            (
                "Les mises en production de {product} ont lieu en semaine avant 15 heures, "
                "jamais le vendredi.",
                "Chaque modification exige une revue de code approuvée et une intégration "
                "continue au vert.",
                "Un incident de sévérité un est déclaré lorsque {product} est indisponible plus "
                "de {minutes} minutes.",
                "L'ingénieur d'astreinte accuse réception d'une alerte en moins de {minutes} "
                "minutes, de jour comme de nuit.",
                "Les analyses post-incident sont rédigées sous {days} jours, sans recherche de "
                "coupable.",
                "Les versions suivent la gestion sémantique et sont suivies dans {system}.",
                "La couverture de tests du nouveau code doit rester au-dessus de {pct} %.",
                "Les migrations de base de données sont relues par l'équipe plateforme.",
                "Les drapeaux de fonctionnalité sont retirés {days} jours après le déploiement "
                "complet.",
            ),
            (
                "Quand avons-nous le droit de déployer en production ?",
                "En combien de temps l'astreinte doit-elle répondre à une alerte ?",
                "Quand un incident est-il de sévérité un ?",
            ),
        ),
    },
    "operations": {
        "en": Topic(
            ("warehouse operations", "shipping", "inventory counts", "delivery service levels",
             "returns handling"),
            ("Warehouse", "Shipping", "Inventory", "Service levels", "Returns", "Safety"),
            (
                "Orders received before 2 pm are shipped the same day from the {region} "
                "warehouse.",
                "Standard delivery in {region} takes {small} working days; express takes one.",
                "A full inventory count takes place every {month}; cycle counts run weekly.",
                "The on-time delivery target is {pct}% of orders, measured every month.",
                "Returned goods are inspected within {days} days and restocked when undamaged.",
                "Forklift drivers must hold a valid licence and attend a yearly safety briefing.",
                "Carrier performance is reviewed each {quarter} with the logistics partners.",
                "Stock levels of {product} spare parts are monitored in {system}.",
                "Damaged shipments are reported to the carrier within {days} days.",
            ),
            (
                "How long does standard delivery take in {region}?",
                "What is the on-time delivery target?",
                "How are returned goods handled?",
            ),
        ),
        "fr": Topic(
            ("les opérations d'entrepôt", "les expéditions", "les inventaires",
             "les niveaux de service de livraison", "le traitement des retours"),
            ("Entrepôt", "Expéditions", "Inventaire", "Niveaux de service", "Retours",
             "Sécurité"),
            (
                "Les commandes reçues avant 14 heures sont expédiées le jour même depuis "
                "l'entrepôt de {region}.",
                "La livraison standard pour {region} prend {small} jours ouvrés ; l'express un "
                "jour.",
                "Un inventaire complet a lieu chaque année en {month} ; des inventaires "
                "tournants sont faits chaque semaine.",
                "L'objectif de livraison à l'heure est de {pct} % des commandes, mesuré chaque "
                "mois.",
                "Les marchandises retournées sont contrôlées sous {days} jours et remises en "
                "stock si elles sont intactes.",
                "Les caristes doivent détenir un permis valide et suivre une formation sécurité "
                "annuelle.",
                "La performance des transporteurs est revue chaque trimestre.",
                "Les stocks de pièces détachées {product} sont suivis dans {system}.",
                "Les colis endommagés sont signalés au transporteur sous {days} jours.",
            ),
            (
                "Combien de temps prend la livraison standard pour {region} ?",
                "Quel est l'objectif de livraison à l'heure ?",
                "Comment les retours de marchandises sont-ils traités ?",
            ),
        ),
    },
    "marketing": {
        "en": Topic(
            ("brand guidelines", "marketing campaigns", "trade shows", "lead generation",
             "social media"),
            ("Brand", "Campaigns", "Events", "Leads", "Social media", "Budget"),
            (
                "The {product} logo is never stretched, recoloured or placed on a busy "
                "background.",
                "Every campaign has a brief, a budget owner and a success metric agreed before "
                "launch.",
                "The marketing budget for {region} in {year} is EUR {amount} thousand, of which "
                "{pct}% goes to digital.",
                "Leads from trade shows are entered in {system} within {days} days.",
                "Posts on the corporate social media accounts are approved by the communication "
                "team.",
                "A marketing qualified lead becomes a sales opportunity after a discovery call.",
                "The spring campaign for {product} starts in {month} in {region}.",
                "Customer testimonials need the written consent of the customer.",
                "Event sponsorships above EUR {amount} are approved by the marketing director.",
            ),
            (
                "What is the marketing budget for {region}?",
                "Who approves posts on our social media accounts?",
                "How fast must trade show leads be entered?",
            ),
        ),
        "fr": Topic(
            ("la charte graphique", "les campagnes marketing", "les salons professionnels",
             "la génération de prospects", "les réseaux sociaux"),
            ("Marque", "Campagnes", "Événements", "Prospects", "Réseaux sociaux", "Budget"),
            (
                "Le logo {product} n'est jamais déformé, recoloré ni posé sur un fond chargé.",
                "Chaque campagne a un brief, un responsable budgétaire et un indicateur de "
                "succès validés avant le lancement.",
                "Le budget marketing de {region} pour {year} est de {amount} milliers d'euros, "
                "dont {pct} % pour le numérique.",
                "Les prospects des salons sont saisis dans {system} sous {days} jours.",
                "Les publications sur les réseaux sociaux de l'entreprise sont validées par "
                "l'équipe communication.",
                "Un prospect qualifié devient une opportunité commerciale après un premier appel "
                "de découverte.",
                "La campagne de printemps de {product} démarre en {month} pour {region}.",
                "Les témoignages clients exigent le consentement écrit du client.",
                "Les parrainages d'événements de plus de {amount} euros sont validés par la "
                "direction marketing.",
            ),
            (
                "Quel est le budget marketing de {region} ?",
                "Qui valide les publications sur nos réseaux sociaux ?",
                "Sous quel délai les prospects des salons doivent-ils être saisis ?",
            ),
        ),
    },
    "procurement": {
        "en": Topic(
            ("purchase orders", "supplier selection", "tenders", "framework agreements",
             "supplier audits"),
            ("Purchase orders", "Supplier selection", "Tenders", "Framework agreements",
             "Audits", "Ethics"),
            (
                "No purchase may be committed without a purchase order approved in {system}.",
                "Purchases above EUR {amount} require three competing quotes.",
                "A formal tender is run for any contract above EUR {amount} thousand per year.",
                "Framework agreements with strategic suppliers are renegotiated every {years} "
                "years.",
                "Critical suppliers in {region} are audited on site every {quarter}.",
                "Suppliers must sign the code of conduct before their first order.",
                "Gifts from suppliers worth more than EUR {small} are declined and reported.",
                "Payment terms are standardised at {days} days for all new suppliers.",
                "The preferred supplier list is reviewed by {person} twice a year.",
            ),
            (
                "How many quotes do I need for a purchase above EUR {amount}?",
                "When is a formal tender required?",
                "Can I accept a gift from a supplier?",
            ),
        ),
        "fr": Topic(
            ("les bons de commande", "la sélection des fournisseurs", "les appels d'offres",
             "les accords-cadres", "les audits fournisseurs"),
            ("Bons de commande", "Sélection des fournisseurs", "Appels d'offres",
             "Accords-cadres", "Audits", "Éthique"),
            (
                "Aucun achat ne peut être engagé sans bon de commande approuvé dans {system}.",
                "Les achats de plus de {amount} euros exigent trois devis concurrents.",
                "Un appel d'offres formel est lancé pour tout contrat de plus de {amount} "
                "milliers d'euros par an.",
                "Les accords-cadres avec les fournisseurs stratégiques sont renégociés tous les "
                "{years} ans.",
                "Les fournisseurs critiques de {region} sont audités sur site chaque trimestre.",
                "Les fournisseurs signent le code de conduite avant leur première commande.",
                "Les cadeaux de fournisseurs d'une valeur supérieure à {small} euros sont "
                "refusés et déclarés.",
                "Les délais de paiement sont fixés à {days} jours pour les nouveaux "
                "fournisseurs.",
                "La liste des fournisseurs référencés est revue par {person} deux fois par an.",
            ),
            (
                "Combien de devis faut-il pour un achat de plus de {amount} euros ?",
                "Quand un appel d'offres est-il obligatoire ?",
                "Puis-je accepter un cadeau d'un fournisseur ?",
            ),
        ),
    },
    "security": {
        "en": Topic(
            ("passwords and multi-factor authentication", "access reviews", "phishing",
             "laptop encryption", "security incident reporting"),
            ("Authentication", "Access reviews", "Phishing", "Devices", "Incident reporting",
             "Classification"),
            (
                "Passwords have at least {chars} characters and multi-factor authentication "
                "through {system} is mandatory.",
                "Access rights to {product} are reviewed by managers every {quarter}.",
                "Suspicious emails are reported with the phishing button, never forwarded.",
                "Laptops are encrypted and lock automatically after {minutes} minutes of "
                "inactivity.",
                "A lost or stolen device is reported to the security desk within one hour.",
                "Confidential documents are shared only with named people, never through public "
                "links.",
                "Administrator accounts are separate from everyday accounts and logged.",
                "Security awareness training is completed by every employee each year.",
                "Access of leavers is revoked on their last working day.",
            ),
            (
                "How long must my password be?",
                "What do I do if I lose my laptop?",
                "How do I report a phishing email?",
            ),
        ),
        "fr": Topic(
            ("les mots de passe et l'authentification forte", "les revues d'accès",
             "l'hameçonnage", "le chiffrement des ordinateurs",
             "le signalement des incidents de sécurité"),
            ("Authentification", "Revues d'accès", "Hameçonnage", "Postes de travail",
             "Signalement des incidents", "Classification"),
            (
                "Les mots de passe comptent au moins {chars} caractères et l'authentification "
                "forte via {system} est obligatoire.",
                "Les droits d'accès à {product} sont revus par les managers chaque trimestre.",
                "Les courriels suspects sont signalés avec le bouton hameçonnage, jamais "
                "transférés.",
                "Les ordinateurs portables sont chiffrés et se verrouillent après {minutes} "
                "minutes d'inactivité.",
                "Un appareil perdu ou volé est signalé au support sécurité dans l'heure.",
                "Les documents confidentiels ne sont partagés qu'avec des personnes nommées, "
                "jamais par lien public.",
                "Les comptes administrateurs sont distincts des comptes courants et journalisés.",
                "Chaque salarié suit la formation de sensibilisation à la sécurité chaque année.",
                "Les accès des salariés qui partent sont révoqués le dernier jour travaillé.",
            ),
            (
                "Quelle doit être la longueur de mon mot de passe ?",
                "Que faire si je perds mon ordinateur portable ?",
                "Comment signaler un courriel d'hameçonnage ?",
            ),
        ),
    },
    "support": {
        "en": Topic(
            ("ticket handling", "escalations", "response times", "customer satisfaction",
             "refunds"),
            ("Tickets", "Escalation", "Response times", "Satisfaction", "Refunds",
             "Knowledge base"),
            (
                "Every customer request becomes a ticket in {system}, with its priority set at "
                "creation.",
                "Priority one tickets for {product} receive a first response within {minutes} "
                "minutes.",
                "A ticket open for more than {days} days is escalated to the team lead.",
                "Customer satisfaction is surveyed after each closed ticket; the target is "
                "{pct}% satisfied.",
                "Refunds up to EUR {small} can be granted by an agent; above that, by {person}.",
                "Answers given twice are turned into a knowledge base article.",
                "Support for {region} is provided in the local language during business hours.",
                "Angry customers are called back by a senior agent the same day.",
                "Ticket backlog and response times are reviewed every Monday.",
            ),
            (
                "How fast do we answer a priority one ticket?",
                "Who can approve a refund of EUR {small}?",
                "When is a ticket escalated?",
            ),
        ),
        "fr": Topic(
            ("le traitement des tickets", "les escalades", "les délais de réponse",
             "la satisfaction client", "les remboursements"),
            ("Tickets", "Escalade", "Délais de réponse", "Satisfaction", "Remboursements",
             "Base de connaissances"),
            (
                "Chaque demande client devient un ticket dans {system}, avec une priorité fixée "
                "à la création.",
                "Les tickets de priorité un sur {product} reçoivent une première réponse en "
                "moins de {minutes} minutes.",
                "Un ticket ouvert depuis plus de {days} jours est escaladé au chef d'équipe.",
                "La satisfaction client est mesurée après chaque ticket clos ; l'objectif est "
                "de {pct} % de clients satisfaits.",
                "Les remboursements jusqu'à {small} euros peuvent être accordés par un agent ; "
                "au-delà, par {person}.",
                "Une réponse donnée deux fois devient un article de la base de connaissances.",
                "Le support pour {region} est assuré dans la langue locale aux heures ouvrées.",
                "Les clients mécontents sont rappelés par un agent senior le jour même.",
                "Le stock de tickets et les délais de réponse sont revus chaque lundi.",
            ),
            (
                "En combien de temps répondons-nous à un ticket de priorité un ?",
                "Qui peut valider un remboursement de {small} euros ?",
                "Quand un ticket est-il escaladé ?",
            ),
        ),
    },
}


@dataclass(frozen=True)
class SyntheticDocument:
    """One file of the corpus: where it goes, what it says, who may read it."""

    relative_path: str
    text: str
    department: str
    language: str


@dataclass(frozen=True)
class Query:
    """A question as a member of `group` would ask it, in `language`."""

    text: str
    language: str
    group: str


def _fill(template: str, language: str, rng: random.Random) -> str:
    slots = SLOTS[language]
    values = {name: rng.choice(options) for name, options in slots.items()}
    values.update(
        year=str(rng.choice((2023, 2024, 2025))),
        days=str(rng.choice((5, 10, 14, 15, 30, 45, 60, 90))),
        amount=str(rng.choice((500, 1000, 2500, 5000, 10000, 25000, 50000))),
        small=str(rng.choice((80, 120, 150, 180, 250, 400))),
        pct=str(rng.choice((3, 5, 8, 10, 12, 15, 20, 25, 80, 90, 95))),
        small_pct=str(rng.choice((2, 3, 4, 5))),
        rate=str(rng.choice((4, 5, 6, 8))),
        years=str(rng.choice((3, 5, 6, 10))),
        leave=str(rng.choice((25, 27, 30))),
        remote=str(rng.choice((2, 3))),
        weeks=str(rng.choice((12, 16, 20))),
        minutes=str(rng.choice((5, 10, 15, 30))),
        chars=str(rng.choice((12, 14, 16))),
    )
    return template.format(**values)


def _paragraph(topic: Topic, language: str, rng: random.Random) -> str:
    # Distinct department sentences, sometimes with the boilerplate every corporate document
    # carries; drawn without replacement so a paragraph never repeats itself.
    templates = rng.sample(topic.sentences, k=rng.randint(3, 5))
    if rng.random() < 0.4:
        templates.insert(rng.randrange(len(templates) + 1), rng.choice(GENERIC[language]))
    return " ".join(_fill(template, language, rng) for template in templates)


def _render(fmt: str, title: str, sections: list[tuple[str, list[str]]]) -> str:
    if fmt == "md":
        parts = [f"# {title}"]
        for heading, paragraphs in sections:
            parts.append(f"## {heading}")
            parts.extend(paragraphs)
        return "\n\n".join(parts) + "\n"
    if fmt == "html":
        body = [f"<h1>{html.escape(title)}</h1>"]
        for heading, paragraphs in sections:
            body.append(f"<h2>{html.escape(heading)}</h2>")
            body.extend(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        return (
            f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
            f"<body><main>{''.join(body)}</main></body></html>\n"
        )
    # Plain text: numbered headings are what load_text recognises as sections.
    parts = [title, "=" * len(title)]
    for number, (heading, paragraphs) in enumerate(sections, start=1):
        parts.append(f"{number}. {heading}")
        parts.extend(paragraphs)
    return "\n\n".join(parts) + "\n"


def generate_corpus(n_documents: int, seed: int) -> list[SyntheticDocument]:
    """`n_documents` documents, departments in turn so each group owns an equal share."""
    rng = random.Random(seed)
    documents = []
    for index in range(n_documents):
        department = DEPARTMENTS[index % len(DEPARTMENTS)]
        language = "fr" if rng.random() < FRENCH_SHARE else "en"
        topic = TOPICS[department][language]
        subject = rng.choice(topic.subjects)
        doc_type = rng.choice(DOC_TYPES[language])
        joiner = " : " if language == "fr" else ": "
        year = rng.choice((2023, 2024, 2025))
        title = f"{doc_type}{joiner}{subject[0].upper()}{subject[1:]} ({year})"
        headings = rng.sample(topic.headings, k=rng.randint(3, len(topic.headings)))
        sections = [
            (heading, [_paragraph(topic, language, rng) for _ in range(rng.randint(2, 4))])
            for heading in headings
        ]
        fmt = rng.choices(("md", "html", "txt"), weights=(75, 15, 10))[0]
        slug = "-".join(subject.replace("'", " ").split()[:4]).lower()
        documents.append(
            SyntheticDocument(
                relative_path=f"{department}/{index:05d}-{slug}.{fmt}",
                text=_render(fmt, title, sections),
                department=department,
                language=language,
            )
        )
    return documents


def write_corpus(documents: list[SyntheticDocument], root: Path) -> None:
    """Write the files and the acl.yaml that gives each department folder to its group."""
    root.mkdir(parents=True, exist_ok=True)
    for document in documents:
        path = root / document.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document.text, encoding="utf-8")
    rules = "\n".join(
        f'  - pattern: "{department}/*"\n    groups: [{department}]' for department in DEPARTMENTS
    )
    # No default group: a file outside the department folders would be readable by nobody.
    (root / "acl.yaml").write_text(f"default: [nobody]\nrules:\n{rules}\n", encoding="utf-8")


def generate_queries(n_queries: int, seed: int) -> list[Query]:
    """Questions in both languages, each asked by a member of the department it is about."""
    rng = random.Random(seed + 1)
    queries = []
    for index in range(n_queries):
        department = DEPARTMENTS[index % len(DEPARTMENTS)]
        language = "fr" if rng.random() < FRENCH_SHARE else "en"
        template = rng.choice(TOPICS[department][language].questions)
        queries.append(Query(_fill(template, language, rng), language, department))
    return queries
