"""Train SmallNet for a few steps: optimizer, schedule, loss, checkpoint."""
import torch
import torch.nn as nn

from cnn.data import make_loader
from cnn.model import SmallNet


def train(epochs: int = 1, lr: float = 0.1) -> float:
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = SmallNet().to(device)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    loss_value = 0.0
    for _ in range(epochs):
        model.train()
        for images, labels in make_loader():
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            loss_value = loss.item()
        scheduler.step()
    with torch.no_grad():
        model.eval()
        logits = model(torch.zeros(1, 3, 32, 32))
        probs = torch.softmax(logits, dim=1)
        top = torch.argmax(probs, dim=1)
    torch.save(model.state_dict(), "smallnet.pt")
    return loss_value + float(top.sum())


if __name__ == "__main__":
    print(f"final loss {train():.4f}")
