"""Graph convolution on Zachary's karate club: two labelled members, the factions of the rest.

Zachary (1977) recorded the 78 friendships among the 34 members of a university karate club
that split in two after a dispute between the instructor ("Mr. Hi", member 1) and the
administrator ("Officer", member 34). A graph network that sees only the friendships (node
features are one-hot identities) and the labels of members 1 and 34 classifies the other 32:
two GCNConv layers (D^-1/2 (A + I) D^-1/2 x W^T + b, tanh between them) map every member to a point in the
plane, a linear layer reads the faction off that point, and Adam trains on the two labelled
nodes only. Each member's point is built from its neighbourhood, so friends land close together.

    python -m examples.graph_network
"""

import numpy as np

import nn
from autograd import Tensor, no_grad

from . import _common

# The 78 friendships, members numbered 1..34 as in Zachary's paper (checked against two public
# copies of the data set: the UCINET adjacency matrix and an edge list with the club attribute).
EDGES = [
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (1, 9),
    (1, 11),
    (1, 12),
    (1, 13),
    (1, 14),
    (1, 18),
    (1, 20),
    (1, 22),
    (1, 32),
    (2, 3),
    (2, 4),
    (2, 8),
    (2, 14),
    (2, 18),
    (2, 20),
    (2, 22),
    (2, 31),
    (3, 4),
    (3, 8),
    (3, 9),
    (3, 10),
    (3, 14),
    (3, 28),
    (3, 29),
    (3, 33),
    (4, 8),
    (4, 13),
    (4, 14),
    (5, 7),
    (5, 11),
    (6, 7),
    (6, 11),
    (6, 17),
    (7, 17),
    (9, 31),
    (9, 33),
    (9, 34),
    (10, 34),
    (14, 34),
    (15, 33),
    (15, 34),
    (16, 33),
    (16, 34),
    (19, 33),
    (19, 34),
    (20, 34),
    (21, 33),
    (21, 34),
    (23, 33),
    (23, 34),
    (24, 26),
    (24, 28),
    (24, 30),
    (24, 33),
    (24, 34),
    (25, 26),
    (25, 28),
    (25, 32),
    (26, 32),
    (27, 30),
    (27, 34),
    (28, 34),
    (29, 32),
    (29, 34),
    (30, 33),
    (30, 34),
    (31, 33),
    (31, 34),
    (32, 33),
    (32, 34),
    (33, 34),
]
N_MEMBERS = 34
# The members who followed Mr. Hi after the split; the other 17 followed the Officer.
MR_HI = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 17, 18, 20, 22}
LABELLED = {1: 0, 34: 1}  # member -> faction (0: Mr. Hi, 1: Officer), the only labels seen


def build_parser():
    p = _common.parser(
        "graph_network",
        "Semi-supervised node classification on Zachary's karate club.",
        steps=(300, "Adam steps"),
        lr=(0.01, "Adam's rate"),
    )
    p.add_argument("--hidden", type=_common.positive_int, default=16, help="width of the first graph-convolution layer")
    return p


def adjacency():
    A = np.zeros((N_MEMBERS, N_MEMBERS))
    for i, j in EDGES:
        A[i - 1, j - 1] = A[j - 1, i - 1] = 1
    return A


def factions():
    """Faction of each member (index 0 is member 1): 0 Mr. Hi, 1 Officer."""
    return np.array([0 if m in MR_HI else 1 for m in range(1, N_MEMBERS + 1)])


class KarateGCN(nn.Module):
    """one-hot -> GCNConv(hidden) -> tanh -> GCNConv(2) (the 2-D embedding) -> Linear(2, 2)."""

    def __init__(self, hidden, rng):
        self.conv1 = nn.GCNConv(N_MEMBERS, hidden, rng=rng)
        self.conv2 = nn.GCNConv(hidden, 2, rng=rng)
        self.classify = nn.Linear(2, 2, rng=rng)

    def embed(self, x, A):
        return self.conv2(self.conv1(x, A).tanh(), A)

    def forward(self, x, A):
        return self.classify(self.embed(x, A))


def plot(figs, A, embedding, truth, predicted, losses, accuracies):
    fig, axes = figs.new(1, 2, size=(5.0, 4.4))
    ax = axes[0, 0]
    for i, j in EDGES:
        ax.plot(*embedding[[i - 1, j - 1]].T, color="0.8", lw=0.6, zorder=0)
    for faction, color, name in ((0, "tab:blue", "Mr. Hi"), (1, "tab:red", "Officer")):
        members = truth == faction
        ax.scatter(*embedding[members].T, c=color, s=40, edgecolors="k", label=f"{name}'s faction")
    wrong = predicted != truth
    ax.scatter(*embedding[wrong].T, s=180, facecolors="none", edgecolors="k", lw=1.5, label="misclassified")
    for member in LABELLED:
        ax.annotate(f"{member} (labelled)", embedding[member - 1], xytext=(5, 5), textcoords="offset points")
    ax.set(title="learned 2-D embedding (edges: friendships)", xlabel="dimension 1", ylabel="dimension 2")
    ax.legend(fontsize="small")
    ax = axes[0, 1]
    ax.plot(losses, label="loss on the 2 labelled members")
    ax.plot(accuracies, label="accuracy on the other 32")
    ax.set(xlabel="Adam step", title="training", ylim=(0, None))
    ax.legend(fontsize="small")
    figs.save(fig, "karate")


@_common.one_blas_thread
def main(argv=None):
    args, figs = _common.start(build_parser(), argv)
    A, truth = adjacency(), factions()
    x = np.eye(N_MEMBERS)  # no features: each member is just itself
    labelled = np.array([m - 1 for m in LABELLED])
    targets = np.array(list(LABELLED.values()))
    unlabelled = np.setdiff1d(np.arange(N_MEMBERS), labelled)
    model = KarateGCN(args.hidden, np.random.default_rng(args.seed))
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    accuracies = []

    def accuracy():
        with no_grad():
            predicted = model(Tensor(x), A).data.argmax(axis=1)
        return float(np.mean(predicted[unlabelled] == truth[unlabelled])), predicted

    losses = _common.gradient_descent(
        lambda: nn.functional.cross_entropy(model(Tensor(x), A)[labelled], targets),
        opt,
        args.steps,
        args,
        desc="GCN",
        on_step=lambda i: accuracies.append(accuracy()[0]),
    )
    final_accuracy, predicted = accuracy()
    with no_grad():
        embedding = model.embed(Tensor(x), A).data
    plot(figs, A, embedding, truth, predicted, losses, accuracies)
    wrong = [int(m) + 1 for m in unlabelled if predicted[m] != truth[m]]
    numbers = {
        "edges": len(EDGES),
        "members per faction": f"{len(MR_HI)} and {N_MEMBERS - len(MR_HI)}",
        "final loss on the 2 labelled members": losses[-1],
        "misclassified members": ", ".join(map(str, wrong)) or "none",
        "accuracy on the 32 unlabelled members": final_accuracy,
    }
    _common.report(numbers, figs)
    return {"accuracy": final_accuracy, "misclassified": wrong, "losses": losses, "files": figs.written}


if __name__ == "__main__":
    main()
