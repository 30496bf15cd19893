"""Deterministic, clearly synthetic demo data for the Case API.

``seed(engine, cases=N)`` fills a freshly migrated database with children, their
cases, chronologies, notes and tasks, and the staff who work them, including the
demo logins ``duty``, ``worker``, ``manager`` and ``admin`` (password ``demo``).

Everything comes from one ``random.Random(seed)`` consumed in a fixed order, and
every timestamp is derived from ``today``, so the same ``cases``, ``seed`` and
``today`` always give the same rows. Identifiers are synthetic by construction:
NHS numbers sit in the 999 test range, phone numbers in Ofcom's drama ranges
(07700 900xxx, 01632 960xxx), and the towns are made up.

Speed: 100,000 cases (about two million chronology events) must load in well
under two minutes. Rows are built as plain tuples from precomputed pools, a chunk
of cases at a time, and written through the raw DB-API: ``executemany`` on SQLite
(with ``synchronous=OFF`` for the load) and ``COPY ... FROM STDIN`` on PostgreSQL.
Ids are assigned here, so no round trip is needed to learn them.
"""

from __future__ import annotations

import json
import math
import queue
import random
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Iterator, Sequence

import sqlalchemy

from server import clock

MAX_CASES = 200_000
CHUNK_CASES = 1000
DEMO_PASSWORD = "demo"
MAX_PRACTITIONERS = 5000
OPEN_SHARE = 0.8


class SeedError(Exception):
    """Seeding cannot go ahead; the message says why in words a person can act on."""


@dataclass
class SeedReport:
    cases: int
    people: int
    users: int
    events: int
    tasks: int
    seconds: float
    demo_logins: list[tuple[str, str, str]] = field(default_factory=list)


# --- vocabularies of synthetic data ---------------------------------------------------------------------------

# (ethnicity codes with weights, boys, girls, family names, first languages with weights), group weight
_GROUPS: list[tuple[float, dict[str, Any]]] = [
    (0.52, dict(
        eth=[("WBRI", 1.0)],
        boys="Oliver Harry Jack George Noah Charlie Jacob Alfie Freddie Oscar Leo Archie Thomas Joshua James William "
             "Riley Tyler Kai Mason Logan Ethan Callum Liam Jayden Kian Alexander Daniel Samuel Lewis Connor Reece "
             "Bradley Dylan Harvey Jake Ryan Luke",
        girls="Olivia Amelia Isla Ava Emily Sophie Grace Mia Poppy Ella Lily Evie Jessica Chloe Ruby Daisy Freya "
              "Millie Holly Megan Lacey Paige Courtney Skye Leah Katie Hannah Charlotte Ellie Summer Madison Tia "
              "Amber Kayleigh Lola Jasmine",
        family="Smith Smyth Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
               "Wright Walker White Edwards Hughes Green Hall Wood Harris Lewis Martin Jackson Clarke Clark Turner "
               "Hill Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patterson Mitchell Price Bell "
               "Kelly Marshall Shaw Lloyd Griffiths Parry Pritchard Holt Barker Stephenson Simpson Atkinson",
        lang=[("English", 1.0)],
    )),
    (0.02, dict(
        eth=[("WIRI", 0.8), ("WIRT", 0.2)],
        boys="Sean Conor Ciaran Patrick Liam Niall Cian Oisin Michael John",
        girls="Aoife Niamh Siobhan Ciara Orla Roisin Saoirse Erin Bridget Mary",
        family="O'Brien O'Connor Murphy Kelly Byrne Walsh O'Neill McCarthy Doyle Gallagher Brennan O'Sullivan",
        lang=[("English", 1.0)],
    )),
    (0.035, dict(
        eth=[("WOTH", 1.0)],
        boys="Jakub Kacper Szymon Filip Mateusz Antoni Dawid Wojciech Oskar Bartosz",
        girls="Zuzanna Julia Maja Hanna Oliwia Wiktoria Natalia Zofia Lena Alicja",
        family="Nowak Kowalski Wiśniewski Wójcik Kowalczyk Lewandowski Zieliński Szymański Woźniak Kamiński",
        lang=[("Polish", 0.6), ("English", 0.4)],
    )),
    (0.025, dict(
        eth=[("WOTH", 0.7), ("WROM", 0.3)],
        boys="Andrei Mihai Luca Stefan Darius Ionut Matas Lukas Nojus Adrian",
        girls="Ioana Maria Elena Andreea Bianca Gabija Emilija Ugne Denisa Alexandra",
        family="Popescu Ionescu Popa Dumitru Stan Munteanu Kazlauskas Petrauskas Jankauskas Balan",
        lang=[("Romanian", 0.5), ("Lithuanian", 0.2), ("Romani", 0.1), ("English", 0.2)],
    )),
    (0.07, dict(
        eth=[("APKN", 1.0)],
        boys="Mohammed Muhammad Mohammad Ali Ibrahim Yusuf Hamza Zain Ayaan Bilal Hassan Imran Rayyan Adam Musa",
        girls="Aisha Fatima Maryam Zainab Hafsa Khadija Inaya Amira Hira Alisha Sana Noor Hania Eshal",
        family="Khan Hussain Ahmed Ali Iqbal Akhtar Shah Mahmood Rashid Butt Malik Hussain Khan Bibi",
        lang=[("English", 0.6), ("Urdu", 0.25), ("Punjabi", 0.15)],
    )),
    (0.035, dict(
        eth=[("ABAN", 1.0)],
        boys="Mohammed Muhammad Abdul Rahim Sami Ayan Tanvir Rayhan Ismail Yahya",
        girls="Nusrat Sumaiya Tasnim Ruksana Jannat Afia Ayesha Mariam Sadia Halima",
        family="Begum Miah Uddin Rahman Islam Hoque Ali Chowdhury Ahmed Begum",
        lang=[("English", 0.55), ("Bengali", 0.3), ("Sylheti", 0.15)],
    )),
    (0.03, dict(
        eth=[("AIND", 1.0)],
        boys="Arjun Aarav Rohan Dev Harjit Karan Vikram Ravi Jaiden Sahil",
        girls="Priya Anika Simran Kiran Jasleen Diya Navpreet Riya Asha Meera",
        family="Patel Singh Kaur Sharma Shah Gill Mistry Chauhan Patel Sandhu",
        lang=[("English", 0.7), ("Gujarati", 0.15), ("Punjabi", 0.15)],
    )),
    (0.06, dict(
        eth=[("BAFR", 1.0)],
        boys="Tobi Chidi Emeka Kwame Kofi Samuel David Daniel Abdi Mohamed Ayo Tunde Joshua Emmanuel",
        girls="Adaeze Chioma Ama Abena Blessing Precious Favour Hodan Fadumo Ifeoma Grace Esther Deborah Ruth",
        family="Okafor Adeyemi Mensah Osei Okonkwo Eze Boateng Abdi Mohamed Hassan Adebayo Nwosu Owusu Warsame",
        lang=[("English", 0.6), ("Yoruba", 0.1), ("Igbo", 0.08), ("Twi", 0.07), ("Somali", 0.15)],
    )),
    (0.03, dict(
        eth=[("BCRB", 1.0)],
        boys="Marcus Jerome Tyrone Andre Kyle Jordan Isaiah Malachi Elijah Nathan",
        girls="Shanice Tianna Jada Kayla Aaliyah Nia Amani Keisha Jade Leona",
        family="Williams Campbell Brown Thomas Clarke Grant Richards Francis Samuels Henry",
        lang=[("English", 1.0)],
    )),
    (0.055, dict(
        eth=[("MWBC", 0.6), ("MWBA", 0.15), ("MWAS", 0.1), ("MOTH", 0.15)],
        boys="Kai Tyler Riley Jayden Malachi Elijah Leon Reuben Ezra Zion Harley Mason",
        girls="Aaliyah Kayla Summer Tia Jada Lacey Nevaeh Skye Amara Layla Imani Leah",
        family="Smith Campbell Brown Williams Jones Clarke Taylor Thomas Francis Johnson Richards Walker",
        lang=[("English", 1.0)],
    )),
    (0.012, dict(
        eth=[("CHNE", 1.0)],
        boys="Wei Jun Hao Ethan Jason Kevin",
        girls="Mei Ling Xin Chloe Joyce Ying",
        family="Chen Li Wang Zhang Liu Wong Cheung Lam",
        lang=[("English", 0.6), ("Cantonese", 0.2), ("Mandarin", 0.2)],
    )),
    (0.028, dict(
        eth=[("OOTH", 0.6), ("AOTH", 0.2), ("BOTH", 0.2)],
        boys="Omar Ahmad Youssef Karim Ahmed Mustafa Dawit Amanuel Reza Aryan",
        girls="Layla Noor Rania Yasmin Hiba Sara Selam Helen Parisa Zahra",
        family="Al-Sayed Haddad Mansour Abdullah Hamid Tesfaye Haile Ahmadi Rezaei Karimi",
        lang=[("Arabic", 0.4), ("Tigrinya", 0.15), ("Farsi", 0.15), ("Kurdish", 0.1), ("English", 0.2)],
    )),
]

_NICKNAMES = {
    "Mohammed": "Mo", "Muhammad": "Mo", "Mohammad": "Mo", "Mohamed": "Mo", "Alexander": "Alex", "Thomas": "Tom",
    "Joshua": "Josh", "William": "Will", "Samuel": "Sam", "Daniel": "Dan", "Jessica": "Jess", "Charlotte": "Lottie",
    "Oliwia": "Olivia", "Jakub": "Kuba", "Katie": "Kate", "Alexandra": "Alex", "Jacob": "Jake", "Abdul": "Abdi",
    "Frederick": "Freddie", "Elizabeth": "Beth", "Madison": "Maddie", "Kayleigh": "Kay", "Ibrahim": "Ibby",
    "Zuzanna": "Zuza", "Emmanuel": "Manny", "Christopher": "Chris", "Isaiah": "Zay", "Hannah": "Hana",
}

_STREETS = (
    "Mill Lane, Church Street, Station Road, Victoria Road, Park Avenue, The Crescent, Queen's Road, Albert Street, "
    "Chapel Close, Orchard Way, Beech Grove, Elm Road, Manor Drive, Windsor Court, Kingsway, High Street, "
    "Meadow View, Brook Street, Cedar Close, Springfield Road, Green Lane, Nelson Street, St John's Road, "
    "Oak Tree Walk, Willow Drive, Hawthorn Avenue, Sycamore Road, Ash Grove, Castle Street, Bridge Street, "
    "Market Street, North Road, South Parade, Railway Terrace, Canal Side, Cromwell Road, Coronation Street, "
    "Jubilee Way, Primrose Hill, Foxglove Close, Lavender Way, Heather Drive, Rowan Crescent, Poplar Avenue, "
    "Laburnum Grove, Thornfield Road, Wellington Road, Gladstone Street, Peel Street, Cavendish Road"
).split(", ")
_BLOCKS = ("Brunel House", "Nightingale Court", "Telford Tower", "Seacole House", "Wilberforce Court",
           "Pankhurst House", "Attlee Court", "Lovelace Tower")
# made-up towns, each with plausible outward codes
_TOWNS = [
    ("Brackley", ("NN13", "NN14")), ("Millbridge", ("MK18", "MK19")), ("Ashcombe", ("OX16", "OX17")),
    ("Fernley", ("CV47", "CV23")), ("Kingsmead", ("LE17", "LE16")), ("Oakworth", ("NN11", "NN12")),
    ("Hallam Cross", ("DE45", "DE4")), ("Westerby", ("NN6", "NN7")), ("Thornbury Vale", ("OX15", "OX7")),
    ("Langford Moor", ("MK16", "MK17")), ("Elmsworth", ("LE10", "LE9")), ("Dunmore", ("CV21", "CV22")),
]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # no C I K M O V, as in real inward codes
_PRIMARIES = ("St Mary's C of E Primary School", "Millfield Primary School", "Oakwood Primary Academy",
              "Greenfields Primary School", "Holy Trinity Primary School", "Brook Lane Infant School",
              "Castle Hill Junior School", "Riverside Primary School", "Meadowbank Primary School",
              "St Joseph's Catholic Primary School", "Highfield Primary School", "Woodlands Academy")
_SECONDARIES = ("{town} Academy", "{town} High School", "St Bede's Catholic High School", "{town} School",
                "{town} Community College", "Kingswood Academy", "Northgate School", "The Ridgeway School")
_SPECIAL = ("Rainbow Fields Special School", "Heronsgate School (special)", "The Beacon Pupil Referral Unit")
_NURSERIES = ("Little Acorns Nursery", "Busy Bees Day Nursery", "Sunflower Pre-school", "Rainbow Children's Centre")
_COLLEGES = ("{town} College", "{town} Sixth Form College", "County College of Further Education")

_DISABILITIES = ("Autism spectrum condition", "ADHD", "Hearing impairment", "Learning disability",
                 "Cerebral palsy", "Visual impairment", "Speech, language and communication needs",
                 "Global developmental delay", "Epilepsy", "Down's syndrome")

# category -> weight; realistic shares of an LA's children's social care caseload
_CATEGORY_WEIGHTS = (("early_help", 0.25), ("cin", 0.33), ("cp", 0.15), ("cla", 0.17), ("care_leaver", 0.10))

_LEGAL = {
    "early_help": (("None", 1.0),),
    "cin": (("Child in need (S17)", 0.85), ("None", 0.15)),
    "cp": (("Child protection plan", 1.0),),
    "cla": (("Care order (S31)", 0.45), ("S20 voluntary accommodation", 0.28), ("Interim care order (S38)", 0.15),
            ("Placement order (S21)", 0.06), ("Remanded to local authority accommodation", 0.03),
            ("Police protection (S46)", 0.01), ("Emergency protection order (S44)", 0.02)),
}
_CLA_PLACEMENTS = (("Foster placement (in-house)", 0.38), ("Foster placement (agency)", 0.2), ("Kinship carer", 0.15),
                   ("Residential children's home", 0.12), ("Placed with parents", 0.06),
                   ("Supported accommodation (16+)", 0.05), ("Adoption placement", 0.03),
                   ("Secure children's home", 0.01))
_LEAVER_PLACEMENTS = (("Staying put with former foster carers", 0.2), ("Supported lodgings", 0.2),
                      ("Semi-independent accommodation", 0.25), ("Own tenancy", 0.25),
                      ("University accommodation", 0.06), ("Custody (YOI)", 0.04))
_HOMES = ("Oakfield House", "The Willows", "Meadow Lodge", "Beech House", "Harbour View", "Linden Lodge")
_PROVIDERS = ("Horizon Supported Living", "Pathways Housing", "Brightstart 16+", "Keystone Supported Homes")

_CATEGORY_TEAM_POOL = {"early_help": "early_help", "cin": "safeguarding", "cp": "safeguarding", "cla": "cla",
                       "care_leaver": "care_leaver"}
_POOL_TEAMS = {
    "early_help": ("Early Help North", "Early Help South", "Early Help East", "Early Help West"),
    "safeguarding": ("Child Protection East", "Assessment Team North", "Child Protection West",
                     "Assessment Team South", "Child Protection North", "Assessment Team East",
                     "Child Protection South", "Assessment Team West"),
    "cla": ("Children in Care",),
    "care_leaver": ("Leaving Care",),
}
_POOLS = ("early_help", "safeguarding", "cla", "care_leaver")
DUTY_TEAM = "Duty and Advice"
DEMO_TEAM = "Child Protection East"

# --- chronology text --------------------------------------------------------------------------------------------
# {c} child, {fam} family name, {mo} mother, {fa} father, {sc} school, {carer} carer, {town} town

CS = "Children's Services"
_SUMMARIES: dict[str, list[tuple[str, str]]] = {
    "contact": [
        ("Police", "Police shared a notification about a domestic incident at {c}'s home."),
        ("School", "{sc} rang with concerns: {c} arrived hungry and in unwashed clothes."),
        ("Health", "Health visitor called about missed appointments and {mo}'s low mood."),
        ("Member of the public", "Anonymous caller reported {c} left at home alone in the evening."),
        ("Family member", "Maternal grandmother called, worried about {mo}'s drinking."),
        ("Housing", "Housing officer raised concerns about the condition of the family's flat."),
        ("School", "DSL at {sc} called: {c} disclosed being hit by {fa}."),
        ("Health", "GP raised concerns about {c}'s weight and repeated missed appointments."),
        (CS, "Phone call with {mo} to arrange the next visit."),
        (CS, "Phone call with {mo}: she asked for help with {c}'s behaviour at home."),
        ("Probation", "Probation shared that {fa} has been released and intends to return to {town}."),
    ],
    "referral": [
        ("Police", "Referral from Police after a domestic incident; {c} was present."),
        ("School", "Referral from {sc} about neglect; progressed to assessment."),
        ("Health", "Referral from the midwife about {mo}'s substance use in pregnancy."),
        ("Health", "Referral from A&E after {c} presented with an unexplained bruise."),
        (CS, "Referral accepted by the front door and progressed to a child and family assessment."),
        ("Family member", "Referral from {fa} alleging {c} is left unsupervised by {mo}."),
        ("School", "Referral from {sc}: {c} disclosed that an adult hurt them."),
    ],
    "assessment_start": [
        (CS, "Child and family assessment started; {c} seen alone."),
        (CS, "Assessment started: home visit to {mo} and {c}; {fa} not present."),
        ("Early Help", "Early help assessment started with {mo} and {c}."),
        (CS, "Pre-birth assessment started with {mo}."),
    ],
    "assessment": [
        (CS, "Child and family assessment completed: child in need plan recommended."),
        (CS, "Assessment completed: needs can be met by early help; step down agreed with {mo}."),
        (CS, "Parenting assessment of {mo} completed; positive recommendations."),
        (CS, "Updated assessment completed after the incident in {town}."),
        ("Early Help", "Early help assessment agreed with the family; team around the family set up."),
    ],
    "strategy_discussion": [
        (CS, "Strategy discussion with police and health: threshold for section 47 enquiries met."),
        ("Police", "Strategy discussion held; joint visit with police agreed for today."),
        (CS, "Strategy meeting: concerns about exploitation of {c}; disruption plan agreed."),
        (CS, "Strategy discussion following {c}'s disclosure at {sc}."),
    ],
    "s47": [
        (CS, "Section 47 enquiry started; {c} seen and spoken to alone."),
        ("Police", "Joint section 47 visit with police; {c} interviewed at {sc}."),
        ("Health", "Child protection medical for {c} at the children's hospital."),
    ],
    "s47_end": [
        (CS, "Section 47 enquiry concluded: significant harm substantiated; initial conference to be convened."),
        (CS, "Section 47 concluded: concerns substantiated, child in need plan instead of conference."),
        (CS, "Section 47 enquiry outcome: risk of significant harm; ICPC booked."),
    ],
    "conference_initial": [
        (CS, "Initial child protection conference: {c} made subject to a plan for neglect."),
        (CS, "Initial conference: {c} subject to a child protection plan for emotional abuse."),
        (CS, "Initial conference: plan for physical abuse; {fa} not to have unsupervised contact."),
    ],
    "conference": [
        (CS, "Review child protection conference: plan continues; {mo} attended with an advocate."),
        (CS, "Review conference: good progress, plan continues for three months."),
        (CS, "Review conference: plan ended, step down to child in need."),
        (CS, "Review conference: concerns increased; legal planning meeting requested."),
    ],
    "core_group": [
        ("Multi-agency", "Core group meeting: {mo} attending a parenting course; attendance at {sc} improving."),
        ("Multi-agency", "Core group met; {fa} did not attend. Actions reviewed and updated."),
        ("Multi-agency", "Core group: health visitor reports {c} is gaining weight."),
        ("Multi-agency", "Core group meeting: home conditions remain poor; deep clean arranged."),
    ],
    "visit_home": [
        (CS, "Statutory visit: {c} seen alone in their bedroom; home conditions adequate."),
        (CS, "Home visit: {mo} and {c} seen; cupboards empty, food bank voucher given."),
        (CS, "Unannounced visit: no answer at the door; calling card left."),
        (CS, "Home visit: {c} seen with {mo}; {fa}'s belongings seen in the hallway."),
        (CS, "Visit to {c} at {sc}; spoke about friends and feeling safe at home."),
        (CS, "Home visit: {mo} presented as tired but engaged; {c} happy to see the worker."),
        (CS, "Joint home visit with the health visitor; sleeping arrangements checked."),
        (CS, "Statutory visit: {c} showed the worker their drawings; no concerns observed."),
    ],
    "visit_placement": [
        (CS, "Statutory visit to {c} at placement with {carer}; settled and happy."),
        (CS, "Visit to {c} at placement: upset after contact with {mo} was cancelled."),
        (CS, "Statutory visit: {c} seen alone; wants to stay with {carer}."),
        (CS, "Visit to placement: {carer} reports {c} sleeping better and eating well."),
        (CS, "Visit: {c} asked about seeing siblings; sibling contact to be arranged."),
        (CS, "Statutory visit: {c} talked about {sc} and a new friend."),
    ],
    "visit_leaver": [
        (CS, "Personal adviser visit: {c} managing the tenancy; rent arrears discussed."),
        (CS, "Pathway visit: {c} enrolled on a course at {sc}."),
        (CS, "Visit to {c}: low mood, referred to the GP; budgeting support offered."),
        (CS, "Keeping-in-touch visit: {c} working part time and doing well."),
    ],
    "review_cla": [
        ("IRO", "Looked after review chaired by the IRO; care plan endorsed."),
        ("IRO", "Looked after review: {c} attended and shared their views."),
        ("IRO", "Looked after review: permanence plan agreed; {c} to stay with {carer}."),
    ],
    "review_cin": [
        (CS, "Child in need review: plan continues; good progress at {sc}."),
        (CS, "Child in need review: {mo} engaging well; case to close in three months."),
        (CS, "Child in need review: {fa} to attend a domestic abuse perpetrator programme."),
    ],
    "review_eh": [
        ("Early Help", "Team around the family review: attendance improved; support to continue."),
        ("Early Help", "Team around the family review: {mo} reports routines are working."),
        ("Early Help", "Early help review: family support worker to continue weekly sessions."),
    ],
    "review_leaver": [
        (CS, "Pathway plan reviewed with {c}; college place confirmed."),
        (CS, "Pathway plan review: {c} wants to move into their own flat."),
        (CS, "Pathway plan review: apprenticeship application supported."),
    ],
    "placement_move": [
        (CS, "{c} moved to a new foster placement in {town}."),
        (CS, "Placement ended at the carers' request; {c} moved to a residential home."),
        (CS, "{c} placed with maternal aunt under a kinship arrangement."),
        (CS, "Emergency placement after family breakdown; {c} accommodated under section 20."),
        (CS, "Planned move: {c} moved to live with {carer}."),
    ],
    "missing_episode": [
        ("Police", "{c} reported missing from placement by {carer}; police informed."),
        ("Police", "{c} missing overnight; found by police at a friend's address in {town}."),
        (CS, "Missing episode: {c} did not return from {sc}; located the next day in {town}."),
        ("Police", "{c} reported missing; last seen getting into a car with older males."),
    ],
    "return_interview": [
        (CS, "Return home interview completed; {c} said they were with older friends."),
        (CS, "Return interview offered; {c} declined to talk to the worker."),
        (CS, "Return interview: {c} disclosed being given cannabis by adults in {town}."),
    ],
    "police_notification": [
        ("Police", "Police attended a domestic incident at the family home; {mo} reported {fa} had returned."),
        ("Police", "Police notification: {c} stopped with older youths in possession of cannabis."),
        ("Police", "Police attended after neighbours reported shouting; no arrests made."),
        ("Police", "Police shared intelligence about adults linked to {c}."),
        ("Police", "Police notification: {fa} arrested for breach of a non-molestation order."),
    ],
    "ae_attendance": [
        ("Health", "{c} attended A&E with a head injury; explanation consistent with the injury."),
        ("Health", "{c} taken to A&E after taking an overdose of paracetamol; discharged the next day."),
        ("Health", "A&E attendance: {c} with a burn to the hand; hospital safeguarding team notified."),
        ("Health", "{c} brought to A&E by {mo} with a high temperature; no safeguarding concerns."),
    ],
    "school": [
        ("School", "{sc} reports {c}'s attendance at 82% this term."),
        ("School", "{c} given a two-day fixed-term exclusion after a fight."),
        ("School", "{sc} shared that {c} has been wearing the same clothes all week."),
        ("School", "School meeting: SENCO to apply for an EHC needs assessment for {c}."),
        ("School", "Personal education plan meeting held at {sc}."),
        ("School", "{c} late to school on most days this month; {mo} to meet the head of year."),
    ],
    "health": [
        ("Health", "Initial health assessment completed for {c}."),
        ("Health", "Review health assessment: immunisations up to date; dental check due."),
        ("Health", "CAMHS appointment attended; {c} on the waiting list for therapy."),
        ("Health", "Health visitor: {c}'s weight has dropped below the 9th centile."),
        ("Health", "GP letter: {mo} prescribed medication for anxiety."),
    ],
    "court": [
        ("Family Court", "Interim care order granted at the Family Court."),
        ("Family Court", "Care proceedings issued; first hearing listed in two weeks."),
        ("Family Court", "Final hearing: care order made; plan for long-term fostering."),
        ("Family Court", "Court directed a parenting assessment of {mo}."),
    ],
    "supervision": [
        (CS, "Case discussed in supervision; next steps agreed."),
        (CS, "Supervision: drift identified, visits increased to weekly."),
        (CS, "Supervision: reflective discussion about {fa}'s hostility to workers."),
    ],
    "management_oversight": [
        (CS, "Management oversight: plan remains appropriate; review in four weeks."),
        (CS, "Team manager oversight: legal gateway meeting to be requested."),
        (CS, "Management oversight: case to step down to early help at the next review."),
    ],
    "note": [
        (CS, "Case note: phone call with {mo} about contact arrangements."),
        (CS, "Case note: information shared with the health visitor."),
        (CS, "Case note: {fa} called asking about contact with {c}."),
        (CS, "Case note: letter sent to {mo} confirming the plan."),
    ],
    "closure": [
        (CS, "Case closed: outcomes of the plan achieved."),
        (CS, "Case closed: family moved out of the area; case transferred to the new authority."),
        (CS, "Case closed: step down to universal services."),
        (CS, "Case closed: {mo} declined further support; no safeguarding concerns."),
    ],
}

# detail sentences: no names, so a detail string is built once and reused verbatim
_DETAIL_SENTENCES: dict[str, list[str]] = {
    "general": [
        "The plan was explained to the parents and they agreed to it.",
        "Actions were agreed and recorded on the plan.",
        "The worker will follow this up at the next visit.",
        "The team manager has been informed.",
        "Information was shared with partner agencies in line with the plan.",
        "The child's views have been recorded in their own words.",
        "No immediate safeguarding concerns were identified.",
        "The worker explained what would happen next.",
    ],
    "home": [
        "The child was seen alone and spoke about school and friends.",
        "The home was warm and there was food in the fridge.",
        "Mother said things had been calmer since the last visit.",
        "There were several empty cans in the kitchen.",
        "The sleeping arrangements were checked and were appropriate.",
        "Father was not present and his whereabouts were not known.",
        "The dog was shut in the garden during the visit.",
        "Mother asked for help with a school uniform grant.",
        "The living room was cluttered but safe.",
    ],
    "placement": [
        "The carer reported that the child is settling well.",
        "The child's bedroom was seen and is personalised.",
        "The child said they feel safe in the placement.",
        "Contact arrangements were discussed with the carer.",
        "The carer asked for respite over the school holidays.",
        "The child's life story work is progressing.",
    ],
    "police": [
        "Officers attended and spoke to both adults.",
        "No further action was taken by the police.",
        "A DASH risk assessment was completed and scored high risk.",
        "The case has been referred to MARAC.",
        "The children were asleep upstairs at the time.",
        "Officers noted a strong smell of cannabis in the property.",
    ],
    "health": [
        "The GP has been asked to review the child.",
        "A follow-up appointment has been booked.",
        "Immunisations are up to date.",
        "The health visitor will share the outcome with the worker.",
        "The child's growth is being monitored.",
    ],
    "ae": [
        "The hospital safeguarding nurse has been informed.",
        "The explanation given was consistent with the injury.",
        "A skeletal survey was not thought necessary.",
        "The child was discharged home with advice.",
        "A follow-up appointment has been booked.",
    ],
    "school": [
        "Attendance will be reviewed again in four weeks.",
        "The school will provide a daily check-in with a trusted adult.",
        "The designated safeguarding lead will share any further concerns.",
        "The child is making expected progress in reading.",
        "Free school meals have been arranged.",
    ],
    "meeting": [
        "All agencies were represented apart from the GP.",
        "The parents attended and contributed to the plan.",
        "The chair summarised the risks and strengths.",
        "The next meeting was set for six weeks' time.",
        "Minutes will be circulated within five working days.",
    ],
    "missing": [
        "Police were informed and a missing report was made.",
        "The child was found safe and well.",
        "Concerns about exploitation were discussed.",
        "A return interview has been offered.",
        "The carer followed the missing protocol.",
    ],
}
_DETAIL_GROUPS = {
    "contact": ("general",), "referral": ("general",), "assessment_start": ("home", "general"),
    "assessment": ("general", "home"), "strategy_discussion": ("meeting", "police"), "s47": ("home", "police"),
    "s47_end": ("general", "meeting"), "conference_initial": ("meeting",), "conference": ("meeting",),
    "core_group": ("meeting",), "visit_home": ("home",), "visit_placement": ("placement",),
    "visit_leaver": ("general", "placement"), "review_cla": ("meeting", "placement"), "review_cin": ("meeting",),
    "review_eh": ("meeting", "general"), "review_leaver": ("meeting", "general"),
    "placement_move": ("placement", "general"), "missing_episode": ("missing",), "return_interview": ("missing",),
    "police_notification": ("police",), "ae_attendance": ("ae",), "school": ("school",), "health": ("health",),
    "court": ("general",), "supervision": ("general",), "management_oversight": ("general",), "note": ("general",),
    "closure": ("general",),
}

# key events: the decisions and incidents a chronology is read for
_KEY_KINDS = frozenset({"referral", "strategy_discussion", "s47", "conference", "placement_move", "missing_episode",
                        "court", "ae_attendance"})
_KEY_STAGES = frozenset({"assessment", "closure"})  # a completed assessment, a closure; not an assessment starting
# the note kind a chronology event is written as, and how often an event of that kind comes with a note
_NOTE_FOR_EVENT = {"visit": ("home_visit", 0.1), "note": ("case_note", 1.0), "supervision": ("supervision", 0.3),
                   "management_oversight": ("management_oversight", 0.3),
                   "strategy_discussion": ("strategy_discussion", 0.2), "school": ("school_visit", 0.04)}

# the opening of a case: (stage, min days after the previous step, max days)
_PATHWAYS: dict[str, list[tuple[str, int, int]]] = {
    "early_help": [("contact", 0, 0), ("assessment_start", 2, 10), ("assessment", 10, 30), ("review_eh", 30, 60)],
    "cin": [("contact", 0, 0), ("referral", 0, 1), ("assessment_start", 1, 5), ("assessment", 20, 40),
            ("review_cin", 30, 60)],
    "cp": [("contact", 0, 0), ("referral", 0, 1), ("strategy_discussion", 0, 2), ("s47", 0, 2),
           ("s47_end", 5, 12), ("conference_initial", 5, 10), ("core_group", 8, 10)],
    "cla": [("contact", 0, 0), ("referral", 0, 1), ("strategy_discussion", 0, 2), ("placement_move", 0, 3),
            ("court", 2, 10), ("health", 14, 25), ("review_cla", 1, 10)],
    "care_leaver": [("placement_move", 0, 0), ("health", 14, 25), ("review_cla", 5, 20)],
}

# what happens while a case is open: stage -> weight
_ONGOING: dict[str, dict[str, int]] = {
    "early_help": {"visit_home": 30, "review_eh": 8, "school": 14, "health": 8, "contact": 12, "note": 5,
                   "police_notification": 4, "supervision": 4, "management_oversight": 2, "ae_attendance": 2},
    "cin": {"visit_home": 32, "review_cin": 6, "school": 12, "health": 7, "contact": 12, "note": 5,
            "police_notification": 7, "ae_attendance": 3, "supervision": 5, "management_oversight": 3,
            "missing_episode": 1, "assessment": 2, "strategy_discussion": 1},
    "cp": {"visit_home": 32, "core_group": 9, "conference": 2, "school": 10, "health": 7, "contact": 10, "note": 5,
           "police_notification": 8, "ae_attendance": 3, "supervision": 5, "management_oversight": 4,
           "missing_episode": 1, "strategy_discussion": 1},
    "cla": {"visit_placement": 32, "review_cla": 5, "health": 7, "school": 11, "contact": 8, "note": 5,
            "placement_move": 2, "missing_episode": 3, "police_notification": 4, "ae_attendance": 2,
            "court": 1, "supervision": 5, "management_oversight": 3},
    "care_leaver": {"visit_leaver": 35, "review_leaver": 8, "health": 6, "school": 8, "contact": 14, "note": 6,
                    "police_notification": 4, "ae_attendance": 3, "supervision": 5, "placement_move": 2},
}


_ANY_HOUR = frozenset({"police_notification", "ae_attendance", "missing_episode"})


def timeline_last(timeline: list[tuple[int, str]]) -> int:
    return timeline[-1][0] if timeline else -1


def _stage_kind(stage: str) -> str:
    if stage.startswith("visit"):
        return "visit"
    if stage.startswith("review"):
        return "review"
    if stage.startswith("conference"):
        return "conference"
    if stage.startswith("assessment"):
        return "assessment"
    if stage == "s47_end":
        return "s47"
    return stage


# tasks: category -> (kind, title template, priority)
_TASKS: dict[str, list[tuple[str, str, str]]] = {
    "early_help": [("statutory_visit", "Family support visit to {c}", "normal"),
                   ("review", "Team around the family review for {c}", "normal"),
                   ("assessment", "Complete early help assessment for {c}", "normal"),
                   ("case_note", "Write up home visit to the {fam} family", "low"),
                   ("supervision", "Discuss {c} {fam} in supervision", "low")],
    "cin": [("statutory_visit", "Statutory visit to {c}", "normal"),
            ("review", "Child in need review meeting for {c}", "normal"),
            ("assessment", "Complete child and family assessment for {c}", "high"),
            ("case_note", "Record phone call with {mo}", "low"),
            ("supervision", "Discuss {c} {fam} in supervision", "low")],
    "cp": [("statutory_visit", "Statutory visit to {c}", "high"),
           ("conference", "Child protection review conference for {c}", "high"),
           ("core_group", "Core group meeting for {c}", "normal"),
           ("case_note", "Write up core group minutes for {c}", "low"),
           ("supervision", "Discuss {c} {fam} in supervision", "normal")],
    "cla": [("statutory_visit", "Statutory visit to {c}", "normal"),
            ("review", "Looked after review for {c}", "normal"),
            ("health_assessment", "Review health assessment for {c}", "normal"),
            ("case_note", "Record placement visit to {c}", "low"),
            ("supervision", "Discuss {c} {fam} in supervision", "low")],
    "care_leaver": [("pathway_plan", "Pathway plan review with {c}", "normal"),
                    ("statutory_visit", "Keeping-in-touch visit to {c}", "normal"),
                    ("health_assessment", "Health passport for {c}", "low"),
                    ("case_note", "Record call with {c} about housing", "low")],
}


# --- helpers ----------------------------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return text.split()


def _weighted(pairs: Sequence[tuple[Any, float]], resolution: int = 200) -> list[Any]:
    """A list to index with random(): each value repeated in proportion to its weight."""
    total = sum(w for _, w in pairs)
    out: list[Any] = []
    for value, weight in pairs:
        out.extend([value] * max(1, round(weight / total * resolution)))
    return out


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def nhs_check_digit(nine: str) -> int | None:
    """The modulus-11 check digit for the first nine digits of an NHS number; None if no valid digit exists."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_valid(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and nhs_check_digit(number[:9]) == int(number[9])


_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upn(la: int, school: int, year: int, serial: int) -> str:
    digits = f"{la:03d}{school:04d}{year % 100:02d}{serial:03d}"
    check = sum(int(d) * w for d, w in zip(digits, range(2, 14))) % 23
    return _UPN_LETTERS[check] + digits


class _Clock:
    """Minutes since a base day, formatted without datetime arithmetic in the hot loop."""

    def __init__(self, today: date, years_back: int = 34) -> None:
        self.base = today - timedelta(days=365 * years_back)
        self.today_idx = (today - self.base).days
        span = self.today_idx + 400
        self.days = [(self.base + timedelta(days=i)).isoformat() for i in range(span)]
        self.mins = [f"T{m // 60:02d}:{m % 60:02d}:00Z" for m in range(1440)]

    def iso(self, t: int) -> str:
        return self.days[t // 1440] + self.mins[t % 1440]

    def day(self, idx: int) -> str:
        return self.days[idx]


@dataclass
class _Staff:
    id: int
    username: str
    display_name: str
    role: str
    team: str


@dataclass
class _Plan:
    """Who works where, and the shape of every case, decided before any row is written."""

    staff: list[_Staff]
    practitioners_by_team: dict[str, list[str]]
    manager_of: dict[str, _Staff]
    user_id: dict[str, int]
    duty: list[str]
    families: list[tuple[int, int]]  # (first case index, size)
    category: list[str]
    is_open: list[bool]
    worker_of: list[str | None]
    team_of: list[str]
    restricted: list[bool]
    big: list[bool]
    forced_tasks: set[int]


# --- the plan ---------------------------------------------------------------------------------------------------

def _team_names(pool: str) -> Iterator[str]:
    bases = _POOL_TEAMS[pool]
    yield from bases
    n = 2
    while True:
        for b in bases:
            yield f"{b} {n}"
        n += 1


def _loads(open_count: int, cap: int, rng: random.Random) -> list[int]:
    """Open cases per practitioner: 15–25 each wherever the numbers allow it."""
    if open_count <= 0:
        return [0]
    p = max(1, round(open_count / 20))
    while open_count / p > 25:
        p += 1
    while p > 1 and open_count / p < 15:
        p -= 1
    p = max(1, min(p, cap))
    base, rem = divmod(open_count, p)
    loads = [base + (1 if j < rem else 0) for j in range(p)]
    lo, hi = min(15, min(loads)), max(25, max(loads))
    for _ in range(p * 2):
        a, b = rng.randrange(p), rng.randrange(p)
        d = rng.randint(1, 4)
        if a != b and loads[a] - d >= lo and loads[b] + d <= hi:
            loads[a] -= d
            loads[b] += d
    return loads


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.groups = []
        for _, g in _GROUPS:
            self.groups.append(dict(
                eth=_weighted(g["eth"], 20), boys=_words(g["boys"]), girls=_words(g["girls"]),
                family=_words(g["family"]), lang=_weighted(g["lang"], 40)))
        self.group_pick = _weighted([(i, w) for i, (w, _) in enumerate(_GROUPS)], 400)
        self.used_usernames: set[str] = set()

    def group(self) -> dict[str, Any]:
        return self.groups[self.group_pick[int(self.rng.random() * len(self.group_pick))]]

    def person(self, female: bool | None = None) -> tuple[str, str]:
        g = self.group()
        if female is None:
            female = self.rng.random() < 0.5
        given = self.rng.choice(g["girls"] if female else g["boys"])
        return given, self.rng.choice(g["family"])

    def username(self, given: str, family: str) -> str:
        stem = ".".join("".join(ch for ch in _ascii(part).lower() if ch.isalnum()) for part in (given, family))
        name, n = stem, 2
        while name in self.used_usernames:
            name = f"{stem}{n}"
            n += 1
        self.used_usernames.add(name)
        return name


def _plan(rng: random.Random, n_cases: int, big_count: int, names: _Names) -> _Plan:
    # families and categories
    cat_pick = _weighted(_CATEGORY_WEIGHTS, 400)
    size_pick = _weighted([(1, 0.45), (2, 0.3), (3, 0.17), (4, 0.08)], 100)
    families: list[tuple[int, int]] = []
    category: list[str] = []
    is_open: list[bool] = []
    i = 0
    while i < n_cases:
        fam_cat = cat_pick[int(rng.random() * len(cat_pick))]
        size = 1 if fam_cat == "care_leaver" else size_pick[int(rng.random() * len(size_pick))]
        size = min(size, n_cases - i)
        families.append((i, size))
        for _ in range(size):
            cat = fam_cat if rng.random() < 0.85 else cat_pick[int(rng.random() * len(cat_pick))]
            if cat == "care_leaver" and size > 1:
                cat = "cla"
            category.append(cat)
            is_open.append(rng.random() < OPEN_SHARE)
        i += size
    if n_cases >= 5:  # every category present, even in a small demo
        for k, cat in enumerate(c for c, _ in _CATEGORY_WEIGHTS):
            if cat not in category:
                category[min(n_cases - 1, 1 + k * (n_cases // 5))] = cat

    # staff: practitioners per pool, sized to the open caseload
    open_by_pool: dict[str, list[int]] = {p: [] for p in _POOLS}
    for idx, cat in enumerate(category):
        if is_open[idx]:
            open_by_pool[_CATEGORY_TEAM_POOL[cat]].append(idx)
    total_open = max(1, sum(len(v) for v in open_by_pool.values()))

    staff: list[_Staff] = []
    user_id: dict[str, int] = {}

    def add(username: str, display: str, role: str, team: str) -> _Staff:
        s = _Staff(len(staff) + 1, username, display, role, team)
        staff.append(s)
        user_id[username] = s.id
        return s

    add("duty", "Demo Duty Worker", "duty", DUTY_TEAM)
    add("worker", "Demo Practitioner", "practitioner", DEMO_TEAM)
    add("manager", "Demo Manager", "manager", DEMO_TEAM)
    add("admin", "Demo Administrator", "admin", "Business Support")

    practitioners_by_team: dict[str, list[str]] = {}
    manager_of: dict[str, _Staff] = {DEMO_TEAM: staff[2]}
    worker_of: list[str | None] = [None] * n_cases
    team_of: list[str] = [""] * n_cases

    def synthetic(role: str, team: str) -> _Staff:
        given, family = names.person()
        return add(names.username(given, family), f"{given} {family}", role, team)

    for pool in _POOLS:
        opened = open_by_pool[pool]
        cap = max(1, MAX_PRACTITIONERS * len(opened) // total_open)
        loads = _loads(len(opened), cap, rng)
        count = len(loads)
        n_teams = max(1, math.ceil(count / 7))
        teams = [t for t, _ in zip(_team_names(pool), range(n_teams))]
        usernames: list[str] = []
        for j in range(count):
            team = teams[j * n_teams // count]
            if pool == "safeguarding" and j == 0:
                usernames.append("worker")
            else:
                usernames.append(synthetic("practitioner", team).username)
            practitioners_by_team.setdefault(team, []).append(usernames[-1])
        for team in teams:
            if team not in manager_of:
                manager_of[team] = synthetic("manager", team)
        # deal the pool's open cases out: consecutive cases (siblings) go to the same practitioner
        order = list(range(count))
        rng.shuffle(order)
        slots = [usernames[p] for p in order for _ in range(loads[p])]
        team_by_user = {u: teams[j * n_teams // count] for j, u in enumerate(usernames)}
        for k, idx in enumerate(opened):
            worker_of[idx] = slots[k]
            team_of[idx] = team_by_user[slots[k]]
        for idx, cat in enumerate(category):
            if not is_open[idx] and _CATEGORY_TEAM_POOL[cat] == pool:
                team_of[idx] = teams[int(rng.random() * n_teams)]

    n_duty = min(40, max(3, n_cases // 2500))
    duty = ["duty"] + [synthetic("duty", DUTY_TEAM).username for _ in range(n_duty - 1)]
    manager_of[DUTY_TEAM] = synthetic("manager", DUTY_TEAM)
    for _ in range(max(1, n_duty // 4)):
        synthetic("duty", "Emergency Duty Team")
    synthetic("admin", "Business Support")

    # restricted (sealed) cases: about 0.75%, with one on worker's caseload and one worker is not on
    restricted = [rng.random() < 0.0075 for _ in range(n_cases)]
    mine = [idx for idx in range(n_cases) if worker_of[idx] == "worker"]
    if mine and not any(restricted[idx] for idx in mine):
        restricted[mine[0]] = True
    others = [idx for idx in range(n_cases) if worker_of[idx] not in (None, "worker")]
    if others and not any(restricted[idx] for idx in others):
        restricted[others[int(rng.random() * len(others))]] = True

    # big chronologies: one on worker's caseload, the rest on other open cases
    big = [False] * n_cases
    if big_count > 0:
        if mine:
            unrestricted = [idx for idx in mine if not restricted[idx]] or mine
            big[unrestricted[0]] = True
        candidates = [idx for idx in range(n_cases) if is_open[idx] and not big[idx]
                      and category[idx] in ("cp", "cla", "cin")]
        if len(candidates) < big_count:
            candidates = [idx for idx in range(n_cases) if not big[idx]]
        need = big_count - sum(big)
        for idx in rng.sample(candidates, min(need, len(candidates))):
            big[idx] = True

    forced = {mine[0]} if mine else set()
    return _Plan(staff, practitioners_by_team, manager_of, user_id, duty, families, category, is_open,
                 worker_of, team_of, restricted, big, forced)


# --- the writer -------------------------------------------------------------------------------------------------

_COLUMNS = {
    "users": ("id", "username", "display_name", "role", "team", "active", "password_hash", "version", "created_at"),
    "people": ("id", "la_child_id", "upn", "nhs_number", "given_name", "family_name", "aliases", "dob",
               "expected_dob", "gender", "ethnicity", "disability", "first_language", "address", "postcode",
               "school", "family_id"),
    "cases": ("id", "person_id", "status", "category", "legal_status", "allocated_worker", "team", "opened_at",
              "closed_at", "placement_type", "whereabouts_address", "carer", "whereabouts_since", "missing_since",
              "restricted", "restricted_contact", "last_visit_at", "version", "updated_at"),
    "case_flags": ("id", "case_id", "code", "label", "severity", "since"),
    "key_contacts": ("id", "case_id", "position", "role", "name", "relationship", "phone"),
    "case_access": ("case_id", "user_id"),
    "notes": ("id", "case_id", "kind", "occurred_at", "body", "author", "created_at", "amends"),
    "chronology": ("id", "case_id", "occurred_at", "kind", "source_agency", "summary", "detail", "key_event",
                   "author", "note_id"),
    "tasks": ("id", "case_id", "title", "kind", "due_on", "assignee", "status", "snoozed_until", "priority",
              "completed_at", "version", "updated_at"),
}
_ID_TABLES = ("users", "people", "cases", "case_flags", "key_contacts", "notes", "chronology", "tasks")


_LOAD_ORDER = ("people", "cases", "case_flags", "key_contacts", "case_access", "notes", "chronology", "tasks")


class _Background:
    """Runs a writer's batches on a thread, in order; an error there is raised here."""

    def __init__(self, writer: "_Writer") -> None:
        self.writer = writer
        self.queue: queue.Queue[list[tuple[str, Sequence[str], list[tuple[Any, ...]]]] | None] = queue.Queue(2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="seed-writer", daemon=True)

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error is not None:
                continue  # drain, so the producer never blocks on a dead consumer
            try:
                for table, columns, rows in batch:
                    self.writer.write(table, columns, rows)
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                self.error = error

    def put(self, batch: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def __enter__(self) -> "_Background":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error


class _Writer:
    def __init__(self, conn: sqlalchemy.Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.raw = conn.connection.driver_connection

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # type: ignore[union-attr]
            return
        with self.raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)

    def finish(self) -> None:
        if self.sqlite:
            return
        for table in _ID_TABLES:
            self.conn.exec_driver_sql(
                f"SELECT setval(seq, (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false) "
                f"FROM (SELECT pg_get_serial_sequence('{table}', 'id') AS seq) s WHERE seq IS NOT NULL"
            )


# --- the generator ----------------------------------------------------------------------------------------------

class _Generator:
    def __init__(self, rng: random.Random, plan: _Plan, names: _Names, clk: _Clock, today: date) -> None:
        self.rng = rng
        self.r = rng.random
        self.plan = plan
        self.names = names
        self.clk = clk
        self.today = today
        self.ids = dict.fromkeys(_ID_TABLES, 0)
        self.nhs_k = 0
        self.nhs_a = 7927
        self.nhs_b = rng.randrange(1_000_000)
        self.events = 0
        self.tasks = 0
        self.buf: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _COLUMNS if t != "users"}
        r = self.r
        # precomputed pools
        self.work_minutes = [m for m in range(8 * 60, 18 * 60 + 30)]
        self.any_minutes = list(range(1440))
        self.summaries = {stage: [(agency, tpl, _stage_kind(stage)) for agency, tpl in pool]
                          for stage, pool in _SUMMARIES.items()}
        self.details: dict[str, list[str]] = {}
        for stage, groups in _DETAIL_GROUPS.items():
            sentences = [s for g in groups for s in _DETAIL_SENTENCES[g]]
            pool = []
            for _ in range(24):
                n = 2 + int(r() * 2)
                pool.append(" ".join(rng.sample(sentences, min(n, len(sentences)))))
            self.details[stage] = pool
        self.ongoing = {cat: _weighted(list(w.items()), 200) for cat, w in _ONGOING.items()}
        self.legal = {cat: _weighted(pairs, 100) for cat, pairs in _LEGAL.items()}
        self.cla_place = _weighted(_CLA_PLACEMENTS, 200)
        self.leaver_place = _weighted(_LEAVER_PLACEMENTS, 100)
        self.prof_names = [" ".join(names.person()) for _ in range(600)]
        self.towns = [(t, codes) for t, codes in _TOWNS]
        self.schools = {}
        for town, _ in _TOWNS:
            self.schools[town] = dict(
                primary=[s for s in _PRIMARIES], secondary=[s.format(town=town) for s in _SECONDARIES],
                college=[s.format(town=town) for s in _COLLEGES])
        self.la_mult = 7_654_321  # coprime with 10**7: a scrambled but unique child id

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows built since the last call; the buffers start again empty."""
        out = self.buf
        self.buf = {t: [] for t in _COLUMNS if t != "users"}
        return out

    # identifiers ------------------------------------------------------------------------------------------------
    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def nhs(self) -> str:
        while True:
            self.nhs_k += 1
            six = (self.nhs_k * self.nhs_a + self.nhs_b) % 1_000_000
            nine = f"999{six:06d}"
            check = nhs_check_digit(nine)
            if check is not None:
                return nine + str(check)

    def mobile(self) -> str:
        return f"07700 900{int(self.r() * 1000):03d}"

    def landline(self) -> str:
        return f"01632 960{int(self.r() * 1000):03d}"

    def address(self) -> tuple[str, str, str]:
        r = self.r
        town, codes = self.towns[int(r() * len(self.towns))]
        street = _STREETS[int(r() * len(_STREETS))]
        if r() < 0.2:
            line = f"Flat {1 + int(r() * 40)}, {_BLOCKS[int(r() * len(_BLOCKS))]}, {street}"
        else:
            line = f"{1 + int(r() * 160)} {street}"
        postcode = (f"{codes[int(r() * len(codes))]} {1 + int(r() * 9)}"
                    f"{_INWARD_LETTERS[int(r() * 20)]}{_INWARD_LETTERS[int(r() * 20)]}")
        return f"{line}, {town}", postcode, town

    # the whole run ----------------------------------------------------------------------------------------------
    def families(self) -> Iterator[int]:
        """Generates every family's rows into the buffers; yields the number of cases done so far."""
        for family_id, (first, size) in enumerate(self.plan.families, start=1):
            self.family(family_id, first, size)
            yield first + size

    def family(self, family_id: int, first: int, size: int) -> None:
        r, rng = self.r, self.rng
        names = self.names
        g = names.group()
        family_name = rng.choice(g["family"])
        mother = rng.choice(g["girls"])
        father = rng.choice(g["boys"]) if r() < 0.8 else names.person(False)[0]
        father_family = family_name if r() < 0.7 else rng.choice(g["family"])
        address, postcode, town = self.address()
        eth = g["eth"][int(r() * len(g["eth"]))]
        lang = g["lang"][int(r() * len(g["lang"]))]
        fam = dict(g=g, family_name=family_name, mother=mother, father=father, father_family=father_family,
                   address=address, postcode=postcode, town=town, eth=eth, lang=lang, placement=None,
                   family_id=family_id)
        for idx in range(first, first + size):
            self.child(idx, fam)

    def child(self, idx: int, fam: dict[str, Any]) -> None:
        r, rng, clk, plan = self.r, self.rng, self.clk, self.plan
        today_idx = clk.today_idx
        category = plan.category[idx]
        is_open = plan.is_open[idx]
        big = plan.big[idx]
        g = fam["g"]
        person_id = self.next_id("people")
        case_id = self.next_id("cases")

        # identity
        female = r() < 0.49
        given = rng.choice(g["girls"] if female else g["boys"])
        family_name = fam["family_name"] if r() < 0.9 else fam["father_family"]
        unborn = category in ("cp", "cin") and not big and r() < 0.025
        if big:
            age = 12 + int(r() * 6)
        elif category == "early_help":
            age = int(r() * 16)
        elif category == "cin":
            age = int(r() * 18)
        elif category == "cp":
            age = min(int(r() * 16), int(r() * 16))
        elif category == "cla":
            age = (0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17)[int(r() * 20)]
        else:
            age = 17 + int(r() * 4)
        if unborn:
            dob_idx = None
            expected = clk.day(today_idx + 7 + int(r() * 150))
            given = "Unborn"
            gender = "unknown"
        else:
            dob_idx = today_idx - age * 365 - int(r() * 365) - 1
            expected = None
            gender = "female" if female else "male"
        aliases: list[str] = []
        if not unborn and r() < 0.05:
            nick = _NICKNAMES.get(given)
            if nick and r() < 0.7:
                aliases.append(f"{nick} {family_name}")
            elif family_name != fam["father_family"]:
                aliases.append(f"{given} {fam['father_family']}")
            else:
                aliases.append(f"{given} {rng.choice(g['family'])}")
        la_child_id = f"LA{(case_id * self.la_mult + 1234) % 10_000_000:07d}"
        nhs = None if unborn else self.nhs()
        upn = None
        school = None
        town = fam["town"]
        schools = self.schools[town]
        if not unborn:
            if age >= 4 and r() < 0.96:
                upn = _upn(800 + int(r() * 200), 2000 + int(r() * 8000), clk.today_idx // 365 - age + 4,
                           int(r() * 1000))
            if age < 2:
                school = None
            elif age < 4:
                school = _NURSERIES[int(r() * len(_NURSERIES))] if r() < 0.6 else None
            elif age < 11:
                school = schools["primary"][int(r() * len(schools["primary"]))]
            elif age < 16:
                school = (schools["secondary"][int(r() * len(schools["secondary"]))] if r() < 0.93
                          else _SPECIAL[int(r() * len(_SPECIAL))])
            elif age < 19 and r() < 0.7:
                school = schools["college"][int(r() * len(schools["college"]))]
        disability = _DISABILITIES[int(r() * len(_DISABILITIES))] if not unborn and r() < 0.07 else None
        eth = fam["eth"] if r() < 0.97 else ("REFU" if r() < 0.5 else "NOBT")
        lang = fam["lang"] if age >= 2 or unborn else "English"
        address, postcode = fam["address"], fam["postcode"]
        if category == "care_leaver":
            address, postcode, town = self.address()
        person = (person_id, la_child_id, upn, nhs, given, family_name, json.dumps(aliases),
                  clk.day(dob_idx) if dob_idx is not None else None, expected, gender, eth, disability, lang,
                  address, postcode, school, fam["family_id"])
        self.buf["people"].append(person)

        # the case's dates
        lower = (dob_idx - 90) if dob_idx is not None else today_idx - 150
        if unborn:
            opened_day = today_idx - 10 - int(r() * 110)
        elif big:
            opened_day = max(dob_idx + 30, today_idx - 2900 - int(r() * 700))
        elif not is_open:
            opened_day = today_idx - 120 - int(r() * 2100)
        elif category == "early_help":
            opened_day = today_idx - 1 - int(r() * 365)
        elif category in ("cin", "cp"):
            opened_day = today_idx - (20 if category == "cp" else 1) - int(r() * 800)
        elif category == "cla":
            opened_day = today_idx - 30 - int(r() * min(3000, max(1, today_idx - lower)))
        else:
            opened_day = (dob_idx if dob_idx is not None else lower) + 365 * (13 + int(r() * 3))
        opened_day = min(max(opened_day, lower), today_idx - 1)
        opened_t = opened_day * 1440 + self.work_minutes[int(r() * len(self.work_minutes))]
        if is_open:
            end_t = today_idx * 1440 - 1 - int(r() * 600)
            closed_t = None
        else:
            closed_day = min(today_idx - 1, opened_day + 30 + int(r() * 510))
            closed_t = max(opened_t + 60, closed_day * 1440 + self.work_minutes[int(r() * len(self.work_minutes))])
            end_t = closed_t
        end_t = max(end_t, opened_t + 1)

        # who
        team = plan.team_of[idx]
        worker = plan.worker_of[idx]
        author = worker
        if author is None:
            colleagues = plan.practitioners_by_team.get(team) or ["worker"]
            author = colleagues[int(r() * len(colleagues))]
        manager = plan.manager_of[team].username
        duty = plan.duty

        # whereabouts
        mother_full = f"{fam['mother']} {fam['family_name']}"
        if category == "cla":
            placement = fam["placement"] if fam["placement"] and r() < 0.5 else None
            if placement is None:
                ptype = self.cla_place[int(r() * len(self.cla_place))]
                paddr, _, ptown = self.address()
                if ptype.startswith("Foster") or ptype == "Adoption placement":
                    cg, cf = self.names.person(True)
                    carer = f"{cg} and {self.names.person(False)[0]} {cf}"
                elif ptype == "Kinship carer":
                    carer = f"{self.names.person(True)[0]} {fam['family_name']} (maternal grandmother)"
                elif ptype == "Residential children's home":
                    carer = f"{_HOMES[int(r() * len(_HOMES))]} (registered manager {self.prof_names[int(r() * 600)]})"
                elif ptype == "Placed with parents":
                    carer, paddr, ptown = mother_full, fam["address"], fam["town"]
                else:
                    carer = _PROVIDERS[int(r() * len(_PROVIDERS))]
                placement = (ptype, paddr, carer, ptown)
                fam["placement"] = placement
            ptype, paddr, carer, ptown = placement
        elif category == "care_leaver":
            ptype = self.leaver_place[int(r() * len(self.leaver_place))]
            paddr, ptown = address, town
            carer = (self.names.person(True)[0] + " " + self.names.person()[1]
                     if ptype.startswith(("Staying", "Supported lodgings")) else None)
        else:
            ptype = ("Living at home with parents", "Living with mother", "Living with mother",
                     "Living with father", "Living with grandparents (informal)")[int(r() * 5)]
            paddr, ptown = fam["address"], fam["town"]
            carer = (mother_full if ptype != "Living with father" else f"{fam['father']} {fam['father_family']}")
            if unborn:
                ptype, carer = "Unborn: mother's address", mother_full
        carer_short = carer.split(" (")[0] if carer else fam["mother"]
        missing_t = None
        if is_open and not big and (category == "cla" and r() < 0.05 or category in ("cp", "cin") and age >= 10
                                    and r() < 0.02):
            missing_t = today_idx * 1440 - 1440 * int(r() * 6) - 60 - int(r() * 1300)
            if missing_t <= opened_t + 1440:
                missing_t = None
        if missing_t is not None:
            end_t = missing_t - 1

        # chronology
        ctx = {"c": given if not unborn else "the unborn baby", "fam": family_name, "mo": fam["mother"],
               "fa": fam["father"], "sc": school or "school", "carer": carer_short, "town": ptown}
        if big:
            n_events = 5000 + int(r() * 1001)
        else:
            n_events = 10 + int(rng.expovariate(1 / 12))
            span_days = (end_t - opened_t) // 1440
            if span_days < 120:
                n_events = min(n_events, 8 + span_days // 8)
            n_events = min(n_events, 60)
        timeline: list[tuple[int, str]] = []
        t = opened_t
        pathway = _PATHWAYS[category]
        if unborn:
            pathway = [("contact", 0, 0), ("referral", 0, 1), ("assessment_start", 1, 5)]
        work = self.work_minutes
        n_work = len(work)
        for stage, lo, hi in pathway:
            if timeline:
                t = (t // 1440 + lo + int(r() * (hi - lo + 1))) * 1440 + work[int(r() * n_work)]
            if timeline and t <= timeline_last(timeline):
                t = timeline_last(timeline) + 30
            if t >= end_t and timeline:
                break
            timeline.append((min(t, end_t), stage))
        conference_t = next((tt for tt, st in timeline if st == "conference_initial"), opened_t)
        start = timeline[-1][0]
        weights = self.ongoing[category]
        span = max(1, end_t - start)
        remaining = n_events - len(timeline) - (0 if is_open else 1) - (1 if missing_t is not None else 0)
        ongoing_stages = []
        while len(ongoing_stages) < remaining:
            stage = weights[int(r() * len(weights))]
            tt = start + 1 + int(r() * span)
            snapped = tt - tt % 1440 + (work[int(r() * n_work)] if stage not in _ANY_HOUR else int(r() * 1440))
            if start < snapped <= end_t:
                tt = snapped
            if stage == "missing_episode":
                back = tt + 1440 + int(r() * 2880)
                if back < end_t and len(ongoing_stages) + 2 <= remaining:
                    ongoing_stages.append((back, "return_interview"))
            ongoing_stages.append((tt, stage))
        ongoing_stages.sort()
        timeline.extend(ongoing_stages)
        if missing_t is not None:
            timeline.append((missing_t, "missing_episode"))
        if not is_open:
            timeline.append((closed_t, "closure"))

        chron = self.buf["chronology"]
        notes = self.buf["notes"]
        summaries, details = self.summaries, self.details
        fmt = clk.iso
        last_visit = None
        last_move = None
        last_t = opened_t
        n_duty = len(duty)
        for tt, stage in timeline:
            pool = summaries[stage]
            agency, tpl, kind = pool[int(r() * len(pool))]
            summary = tpl.format_map(ctx)
            dpool = details[stage]
            detail = dpool[int(r() * len(dpool))]
            when = fmt(tt)
            if kind == "contact" or kind == "referral":
                who = duty[int(r() * n_duty)] if r() < 0.6 else author
            elif kind == "supervision" or kind == "management_oversight":
                who = manager
            else:
                who = author
            note_id = None
            spec = _NOTE_FOR_EVENT.get(kind)
            if spec is not None and r() < spec[1]:
                note_id = self.next_id("notes")
                created = fmt(min(tt + 10 + int(r() * 600), max(tt, today_idx * 1440 - 1)))
                notes.append((note_id, case_id, spec[0], when, f"{summary} {detail}", who, created, None))
            chron.append((self.next_id("chronology"), case_id, when, kind, agency, summary, detail,
                          kind in _KEY_KINDS or stage in _KEY_STAGES, who, note_id))
            if kind == "visit":
                last_visit = when
            elif kind == "placement_move":
                last_move = when
            last_t = tt
        self.events += len(timeline)

        # the case row
        legal = None
        if category in self.legal:
            pool = self.legal[category]
            legal = pool[int(r() * len(pool))]
        elif category == "care_leaver":
            legal = "Relevant child (16-17)" if age < 18 else "Former relevant child (care leaver)"
        restricted = plan.restricted[idx]
        restricted_contact = f"{team} team manager" if restricted else None
        since = last_move if category in ("cla", "care_leaver") and last_move else fmt(opened_t)
        self.buf["cases"].append((
            case_id, person_id, "open" if is_open else "closed", category, legal, worker, team, fmt(opened_t),
            fmt(closed_t) if closed_t is not None else None, ptype, paddr, carer, since,
            fmt(missing_t) if missing_t is not None else None, restricted, restricted_contact, last_visit, 1,
            fmt(last_t),
        ))
        if restricted:
            members = [u for u in (worker, manager) if u]
            for u in dict.fromkeys(members):
                self.buf["case_access"].append((case_id, plan.user_id[u]))

        # flags
        flags = self.buf["case_flags"]
        opened_date = clk.day(opened_day)

        def flag(code: str, label: str, severity: str, since_day: str | None) -> None:
            flags.append((self.next_id("case_flags"), case_id, code, label, severity, since_day))

        if category == "cp":
            flag("CPP", "Child protection plan", "high", clk.day(conference_t // 1440))
        if missing_t is not None:
            flag("MISSING", "Missing from placement" if category == "cla" else "Missing from home", "high",
                 clk.day(missing_t // 1440))
        if r() < 0.03:
            flag("RISK_STAFF", ("Risk to staff: aggressive father", "Risk to staff: dog at the property",
                                "Risk to staff: threats made to a social worker",
                                "Risk to staff: visit in pairs")[int(r() * 4)], "high", opened_date)
        if not unborn and age >= 10 and category != "early_help" and r() < 0.08:
            flag("CSE", "Child exploitation concerns", "high", opened_date)
        if category in ("cin", "cp", "early_help") and r() < 0.15:
            flag("DV", "Domestic abuse in household", "medium", opened_date)
        if not unborn and age >= 11 and r() < 0.03:
            flag("SELF_HARM", "Self-harm: see safety plan", "medium", opened_date)
        if disability is not None and r() < 0.6 or (not unborn and age >= 3 and r() < 0.03):
            flag("SEND", "EHCP in place", "low", opened_date)
        if lang not in ("English", None) and r() < 0.6:
            flag("INTERPRETER", f"Needs interpreter ({lang})", "low", opened_date)
        if category == "cla" and age >= 14 and eth in ("OOTH", "AOTH", "BAFR", "BOTH") and r() < 0.3:
            flag("UASC", "Unaccompanied asylum-seeking child", "low", opened_date)

        # key contacts
        contacts: list[tuple[str, str, str | None, str | None]] = []
        prof = self.prof_names
        if category != "care_leaver" or r() < 0.5:
            contacts.append(("Mother", mother_full, "Mother", self.mobile()))
        if r() < 0.55:
            contacts.append(("Father", f"{fam['father']} {fam['father_family']}", "Father", self.mobile()))
        if category == "cla" and carer:
            contacts.append(("Foster carer" if ptype.startswith("Foster") else "Carer", carer_short,
                             ptype, self.mobile()))
        if category in ("cla", "care_leaver") and r() < 0.8:
            contacts.append(("IRO" if category == "cla" else "Personal adviser", prof[int(r() * 600)],
                             "Independent reviewing officer" if category == "cla" else "Leaving care team",
                             self.landline()))
        if school and r() < 0.7:
            contacts.append(("School DSL", prof[int(r() * 600)], f"Designated safeguarding lead, {school}",
                             self.landline()))
        if (unborn or age < 5) and r() < 0.8:
            contacts.append(("Health visitor", prof[int(r() * 600)], "Health visitor", self.landline()))
        if r() < 0.4:
            contacts.append(("GP", "Dr " + prof[int(r() * 600)].split(" ")[-1], f"{ptown} Medical Centre",
                             self.landline()))
        if category == "cp" and r() < 0.5 or r() < 0.05:
            contacts.append(("Police PPU", "DC " + prof[int(r() * 600)], "Public protection unit", self.landline()))
        if len(contacts) < 2:
            contacts.append(("Grandmother", f"{self.names.person(True)[0]} {family_name}", "Maternal grandmother",
                             self.mobile()))
        if len(contacts) < 2:
            contacts.append(("GP", "Dr " + prof[int(r() * 600)].split(" ")[-1], f"{ptown} Medical Centre",
                             self.landline()))
        kc = self.buf["key_contacts"]
        for pos, (role, name, rel, phone) in enumerate(contacts[:5], start=1):
            kc.append((self.next_id("key_contacts"), case_id, pos, role, name, rel, phone))

        # tasks
        self.make_tasks(idx, case_id, category, is_open, worker, author, team, ctx, closed_t, last_t, missing_t)

    def make_tasks(self, idx: int, case_id: int, category: str, is_open: bool, worker: str | None, author: str,
                   team: str, ctx: dict[str, str], closed_t: int | None, last_t: int,
                   missing_t: int | None) -> None:
        r, clk = self.r, self.clk
        today_idx = clk.today_idx
        out = self.buf["tasks"]
        templates = _TASKS[category]
        colleagues = self.plan.practitioners_by_team.get(team) or [author]
        stamp = clk.iso(last_t)
        if not is_open:
            for _ in range(1 + int(r() * 2)):
                kind, title, prio = templates[int(r() * len(templates))]
                due = closed_t // 1440 - int(r() * 60)  # type: ignore[operator]
                done_t = max(due * 1440 - 1440 * int(r() * 5), closed_t - 1440 * 20)  # type: ignore[operator]
                out.append((self.next_id("tasks"), case_id, title.format_map(ctx), kind, clk.day(due), author,
                            "done", None, prio, clk.iso(done_t), 1, clk.iso(done_t)))
            return
        forced = idx in self.plan.forced_tasks
        n_open = 2 + int(r() * 3)
        n_done = 1 + int(r() * 3)
        picks = [templates[0]] + [templates[1 + int(r() * (len(templates) - 1))] for _ in range(n_open - 1)]
        if missing_t is not None:
            picks.append(("return_interview", "Return home interview with {c}", "high"))
        for k, (kind, title, prio) in enumerate(picks):
            x = r()
            if forced and k == 0:
                due = today_idx - 3
            elif forced and k == 1:
                due = today_idx
            elif kind == "return_interview":
                due = missing_t // 1440 + 3  # type: ignore[operator]
            elif x < 0.2:
                due = today_idx - 1 - int(r() * 30)
            elif x < 0.3:
                due = today_idx
            elif x < 0.55:
                due = today_idx + 1 + int(r() * 6)
            else:
                due = today_idx + 7 + int(r() * 39)
            status, snoozed = "open", None
            if not forced and r() < 0.08:
                status, snoozed = "snoozed", clk.day(today_idx + 1 + int(r() * 14))
            y = r()
            priority = prio if y < 0.7 else ("high" if y < 0.8 else "normal" if y < 0.92 else "low")
            assignee = worker if r() < 0.9 or not worker else colleagues[int(r() * len(colleagues))]
            out.append((self.next_id("tasks"), case_id, title.format_map(ctx), kind, clk.day(due), assignee, status,
                        snoozed, priority, None, 1, stamp))
        for _ in range(n_done):
            kind, title, prio = templates[int(r() * len(templates))]
            due = today_idx - 1 - int(r() * 120)
            done_t = min(due * 1440 + 540 + int(r() * 600) - 1440 * int(r() * 4), today_idx * 1440 - 1)
            out.append((self.next_id("tasks"), case_id, title.format_map(ctx), kind, clk.day(due), worker, "done",
                        None, prio, clk.iso(done_t), 1, clk.iso(done_t)))


# --- entry point ------------------------------------------------------------------------------------------------

def seed(engine: sqlalchemy.Engine, cases: int = 200, seed: int = 1, *, today: date | None = None,
         big_chronologies: int | None = None, progress: Callable[[str], None] | None = None) -> SeedReport:
    """Fill a migrated, empty database with demo data; see the module docstring."""
    started = time.perf_counter()
    if isinstance(cases, bool) or not isinstance(cases, int) or not 1 <= cases <= MAX_CASES:
        raise SeedError(f"the number of cases must be a whole number from 1 to {MAX_CASES:,}, not {cases!r}")
    if big_chronologies is None:
        big_chronologies = max(2, cases // 20_000)
    if isinstance(big_chronologies, bool) or not isinstance(big_chronologies, int) or big_chronologies < 0:
        raise SeedError(f"big_chronologies must be a whole number of cases, 0 or more, not {big_chronologies!r}")
    big_chronologies = min(big_chronologies, cases)
    today = today or clock.today()
    say = progress or (lambda _line: None)

    from server.auth import hash_password
    from server.search import index_row, rebuild

    with engine.connect() as conn:
        try:
            has_people = conn.exec_driver_sql("SELECT 1 FROM people LIMIT 1").first() is not None
        except sqlalchemy.exc.DBAPIError as error:
            raise SeedError("the database has no Case API tables yet; run `casework server migrate` first") from error
        conn.rollback()
        if has_people:
            raise SeedError("the database already holds data; use --fresh to replace it")

        rng = random.Random(seed)
        names = _Names(rng)
        plan = _plan(rng, cases, big_chronologies, names)
        clk = _Clock(today)
        gen = _Generator(rng, plan, names, clk, today)
        created = clk.iso((clk.today_idx - 400) * 1440 + 9 * 60)
        # Argon2 is deliberately slow (~50 ms a hash). These are synthetic demo accounts that all share the
        # published password "demo", so one hash reused for every row gives away nothing a per-user salt
        # would protect, and saves minutes on a large seed. Real accounts are hashed one by one.
        password_hash = hash_password(DEMO_PASSWORD)
        user_rows = [(s.id, s.username, s.display_name, s.role, s.team, True, password_hash, 1, created)
                     for s in plan.staff]

        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection
        restore: list[str] = []
        if sqlite:
            for pragma in ("synchronous", "foreign_keys", "cache_size"):
                value = raw.execute(f"PRAGMA {pragma}").fetchone()[0]  # type: ignore[union-attr]
                restore.append(f"PRAGMA {pragma}={value}")
            # foreign keys are consistent by construction; checking 2M references row by row costs time
            raw.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            raw.execute("PRAGMA cache_size=-262144")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if not sqlite:
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                writer = _Writer(conn)
                writer.write("users", _COLUMNS["users"], user_rows)
                say(f"users {len(user_rows)}")
                people_cols = _COLUMNS["people"]
                search_cols: tuple[str, ...] | None = None
                pending = 0
                # one thread writes chunk k while this one builds chunk k+1: the database engine (in this
                # process for SQLite, which releases the GIL while it works; a server process for PostgreSQL)
                # then runs on the second core instead of waiting for Python
                with _Background(writer) as background:
                    for done in gen.families():
                        if done - pending < CHUNK_CASES and done < cases:
                            continue
                        pending = done
                        buf = gen.take()
                        search_rows = [index_row(dict(zip(people_cols, p))) for p in buf["people"]]
                        batch: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]] = []
                        for table in _LOAD_ORDER:
                            batch.append((table, _COLUMNS[table], buf[table]))
                            if table == "people" and search_rows:
                                if search_cols is None:
                                    search_cols = tuple(search_rows[0])
                                batch.append(("person_search", search_cols,
                                              [tuple(row[c] for c in search_cols) for row in search_rows]))
                        background.put(batch)
                        say(f"cases {done}/{cases} ({gen.events} chronology events)")
                say("search index")
                rebuild(conn)
                writer.finish()
            if not sqlite:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        finally:
            if sqlite:
                for statement in restore:
                    raw.execute(statement)  # type: ignore[union-attr]

    counts = gen.ids
    return SeedReport(
        cases=counts["cases"], people=counts["people"], users=len(user_rows), events=counts["chronology"],
        tasks=counts["tasks"], seconds=round(time.perf_counter() - started, 2),
        demo_logins=[("duty", DEMO_PASSWORD, "duty"), ("worker", DEMO_PASSWORD, "practitioner"),
                     ("manager", DEMO_PASSWORD, "manager"), ("admin", DEMO_PASSWORD, "admin")],
    )
