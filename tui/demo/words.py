"""The people and the words of the demo's traffic: names, phone areas, group subjects, what contacts write and
what the operators answer, in Brazilian Portuguese and English.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """The language a contact (or an instance's operator) writes in."""

    PT = "pt-BR"
    EN = "en"


AREAS = ("11", "21", "31", "41", "51", "61", "71", "81", "85", "19")
PT_NAMES = (
    "Ana Souza",
    "Bruno Lima",
    "Carla Mendes",
    "Diego Alves",
    "Fernanda Rocha",
    "Gabriel Costa",
    "Juliana Pereira",
    "Lucas Oliveira",
    "Mariana Santos",
    "Rafael Ribeiro",
    "Tatiane Gomes",
    "Vinícius Martins",
)
EN_NAMES = (
    "John Doe",
    "Emily Clark",
    "Michael Brown",
    "Sarah Johnson",
    "David Wilson",
    "Olivia Taylor",
    "James Anderson",
    "Sophie Turner",
)
GROUP_SUBJECTS = {
    Language.PT: ("Equipe Vendas SP", "Clientes VIP", "Família Souza", "Entregadores Zona Sul", "Suporte N2"),
    Language.EN: ("Sales Team", "VIP Customers", "Weekend Plans", "Release Crew", "Support Tier 2"),
}
OPENERS = {
    Language.PT: (
        "Oi, tudo bem?",
        "Bom dia! Vocês abrem hoje?",
        "Olá, gostaria de fazer um pedido",
        "Qual o prazo de entrega pra Campinas?",
        "Meu pedido ainda não chegou 😕",
        "Vocês aceitam Pix?",
        "Boa tarde, preciso de uma segunda via do boleto",
        "Tem horário disponível amanhã às 14h?",
        "Quanto custa o frete?",
        "Obrigado pelo atendimento!",
    ),
    Language.EN: (
        "Hi there!",
        "Hello, is the store open today?",
        "I'd like to place an order",
        "When will my package arrive?",
        "Can I change my delivery address?",
        "Do you take credit cards?",
        "Thanks for the quick reply!",
        "Is there a slot tomorrow at 2pm?",
        "What's the shipping cost?",
        "My order number is 48213",
    ),
}
REPLIES = {
    Language.PT: (
        "Olá! Tudo ótimo, e com você? 😊",
        "Bom dia! Abrimos às 8h.",
        "Claro! Pode me mandar o que deseja?",
        "O prazo é de 2 a 3 dias úteis.",
        "Vou verificar com a transportadora e já te retorno.",
        "Aceitamos sim, a chave Pix é o nosso CNPJ.",
        "Segue a segunda via em anexo.",
        "Temos sim, posso confirmar?",
        "O frete fica R$ 12,90.",
        "Nós que agradecemos!",
    ),
    Language.EN: (
        "Hello! How can we help?",
        "Yes, we're open until 6pm.",
        "Sure, what would you like?",
        "It should arrive within 2 business days.",
        "Of course, please send the new address.",
        "We do, all major cards.",
        "You're welcome!",
        "Yes, shall I book it for you?",
        "Shipping is $4.99.",
        "Thanks, checking it now.",
    ),
}
EDIT_SUFFIX = {Language.PT: " (corrigido)", Language.EN: " (edited)"}
LABELS = {
    Language.PT: ("Novo cliente", "Pedido pago", "Aguardando", "Pós-venda"),
    Language.EN: ("New customer", "Paid", "Pending", "Follow-up"),
}
SOURCES = ("android", "ios", "web")
